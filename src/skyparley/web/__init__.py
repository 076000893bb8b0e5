"""The operations console: static files served by the service, no build step, no network.

:func:`mount_console` adds to a FastAPI app:

- ``/``: the console's page (``static/index.html``);
- ``/static/console/``: its ES modules, style sheet and translations (``static/``);
- ``/static/leaflet/``: Leaflet from the ``xstatic-leaflet`` package;
- ``/static/basemap/``: the Natural Earth countries of ``skyparley/data/basemap``.

It imports nothing from skyparley: the console talks to the service over its public API.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import xstatic.pkg.leaflet  # type: ignore[import-untyped]  # no stubs; BASE_DIR only
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["BASEMAP_DIR", "LEAFLET_DIR", "STATIC_DIR", "mount_console"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""The console's own files."""

LEAFLET_DIR = Path(xstatic.pkg.leaflet.BASE_DIR)
"""Leaflet's files (``leaflet-src.esm.js``, ``leaflet.css``, ``images/``)."""

BASEMAP_DIR = Path(str(files("skyparley.data").joinpath("basemap")))
"""The offline basemap (``countries.geojson``)."""


def mount_console(app: FastAPI) -> None:
    """Serve the console at ``/`` and its assets under ``/static/`` (none in the schema)."""

    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.mount("/static/console", StaticFiles(directory=STATIC_DIR), name="console")
    app.mount("/static/leaflet", StaticFiles(directory=LEAFLET_DIR), name="leaflet")
    app.mount("/static/basemap", StaticFiles(directory=BASEMAP_DIR), name="basemap")
