"""The ledger's reads stay consistent while the log grows under them: a receipt's proof is
for the tree of the checkpoint it carries, and a checkpoint's ``size`` is its own.

Other filings commit between any two reads of a request on a busy server; here the
service's ledger logs one more entry before each of its reads, so every such moment
happens in every request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.service_server import Server, running_server

from skyparley.domain.ledger import Receipt, verify_receipt
from skyparley.domain.ledger.merkle import leaf_hash


class _GrowingLedger:
    """A ledger that calls ``grow`` before each of its methods."""

    def __init__(self, ledger: Any, grow: Callable[[], None]) -> None:
        self._ledger = ledger
        self._grow = grow

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._ledger, name)
        if not callable(attr):
            return attr

        def grown_first(*args: Any, **kwargs: Any) -> Any:
            self._grow()
            return attr(*args, **kwargs)

        return grown_first


@pytest.fixture
def growing(tmp_path: Path) -> Iterator[tuple[Server, list[int]]]:
    with running_server(tmp_path) as server:
        rt = server.app.state.runtime
        real = rt.ledger
        grown: list[int] = []

        def grow() -> None:  # the signer keeps the real ledger: its appends are not wrapped
            grown.append(len(grown))
            rt.service.signer.append_service(
                "text", {"to": ["coalition"], "text": "filler"}, idem=f"grow:{len(grown)}"
            )

        wrapped = _GrowingLedger(real, grow)
        rt.ledger = rt.service.ledger = wrapped
        try:
            yield server, grown
        finally:
            rt.ledger = rt.service.ledger = real


def test_a_receipt_verifies_though_the_log_grows_while_it_is_built(
    growing: tuple[Server, list[int]],
) -> None:
    server, grown = growing
    with server.client("russia") as c:
        sent = c.post(
            "/v1/messages",
            json={"kind": "text", "to": ["coalition"], "content": {"text": "hi", "lang": "en"}},
        )
        assert sent.status_code == 201, sent.text
        before = len(grown)
        got = c.get(f"/v1/ledger/receipts/{sent.json()['ledger_index']}")
    assert got.status_code == 200, got.text
    assert len(grown) - before >= 3  # the log grew between the receipt's reads
    leaf = got.json()["leaf"].encode("utf-8")
    receipt = Receipt.from_json(got.json()["receipt"])
    assert receipt.leaf_hash == leaf_hash(leaf)
    verify_receipt(receipt, leaf, server.service_key.verifier)


def test_the_latest_checkpoint_names_its_own_size(growing: tuple[Server, list[int]]) -> None:
    server, grown = growing
    with server.client("coalition", "viewer") as c:
        got = c.get("/v1/ledger/checkpoint")
    assert got.status_code == 200, got.text
    assert len(grown) >= 1  # the log grew before each read of the request
    note_size = int(got.json()["checkpoint"].split("\n")[1])  # origin, size, root hash
    assert got.json()["size"] == note_size
