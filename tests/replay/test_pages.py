"""Incident reports are written in a thread: every page lands, and a failed write fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from skyparley.replay._run import _PageWriter


def test_every_page_is_written_and_a_failed_write_is_raised(tmp_path: Path) -> None:
    with _PageWriter() as pages:
        for k in range(600):  # more than MAX_PENDING: some writes wait for others
            pages.write(tmp_path / f"{k}.html", f"page {k}")
        pages.close()
    assert len(list(tmp_path.iterdir())) == 600
    assert (tmp_path / "599.html").read_text(encoding="utf-8") == "page 599"
    with _PageWriter() as pages:
        pages.write(tmp_path / "missing-folder" / "x.html", "page")
        with pytest.raises(FileNotFoundError):
            pages.close()
