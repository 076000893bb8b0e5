"""Writes in a thread (incident reports, spill files): every write lands, and a failed
write fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from skyparley.replay._ingest import BackgroundWrites


def test_every_page_is_written_and_a_failed_write_is_raised(tmp_path: Path) -> None:
    with BackgroundWrites("test-pages", 256) as pages:
        for k in range(600):  # more than the limit: some writes wait for others
            pages.submit((tmp_path / f"{k}.html").write_text, f"page {k}")
        pages.close()
    assert len(list(tmp_path.iterdir())) == 600
    assert (tmp_path / "599.html").read_text(encoding="utf-8") == "page 599"
    with BackgroundWrites("test-pages", 256) as pages:
        pages.submit((tmp_path / "missing-folder" / "x.html").write_text, "page")
        with pytest.raises(FileNotFoundError):
            pages.close()
