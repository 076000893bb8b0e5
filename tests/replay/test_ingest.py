"""Reading ahead in a thread: the same items in order, errors where they happened, and a
consumer that stops early leaves no reader running and its file closed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from skyparley.replay._ingest import _ahead


def test_items_come_in_order_and_an_error_comes_where_it_happened() -> None:
    def items() -> Iterator[int]:
        yield from range(5)
        raise ValueError("row 6: bad")

    stream = _ahead(items())  # type: ignore[arg-type]
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="row 6: bad"):
        next(stream)


def test_stopping_early_closes_the_source_in_its_thread() -> None:
    closed: list[str] = []

    def items() -> Iterator[int]:
        try:
            yield from range(1000)
        finally:
            closed.append(threading.current_thread().name)

    stream = _ahead(items())  # type: ignore[arg-type]
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()  # type: ignore[attr-defined]
    assert closed == ["replay-read"]
    assert not any(t.name == "replay-read" for t in threading.enumerate())
