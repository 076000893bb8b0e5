"""Make the console's offline basemap: Natural Earth country polygons as compact GeoJSON.

The source is the npm package ``world-atlas`` (TopoJSON built from Natural Earth, public
domain). Without ``--topojson`` the tool runs ``npm pack world-atlas@2`` in a temporary
folder and reads ``countries-50m.json`` out of the tarball.

Example::

    .venv/bin/python tools/make_basemap.py
    .venv/bin/python tools/make_basemap.py --topojson countries-50m.json --digits 2

It decodes the topology (quantized, delta-encoded arcs and the transform), stitches each
polygon's rings from its arcs, rounds coordinates to ``--digits`` decimals (2: about 1 km,
plenty for a situational map), drops the points that rounding makes equal and the rings that
collapse, and writes ``src/skyparley/data/basemap/countries.geojson``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "src/skyparley/data/basemap/countries.geojson"
PACKAGE = "world-atlas@2"
MEMBER = "package/countries-50m.json"

Point = list[float]
Ring = list[Point]


def decode_arcs(topology: dict[str, Any]) -> list[Ring]:
    """The topology's arcs in longitude and latitude (the transform and deltas undone).

    >>> decode_arcs({"arcs": [[[0, 0], [2, 1], [-1, 3]]],
    ...              "transform": {"scale": [0.5, 1.0], "translate": [10.0, 20.0]}})
    [[[10.0, 20.0], [11.0, 21.0], [10.5, 24.0]]]
    """
    transform = topology.get("transform")
    out: list[Ring] = []
    for arc in topology["arcs"]:
        if transform is None:
            out.append([[float(p[0]), float(p[1])] for p in arc])
            continue
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
        x = y = 0
        pts: Ring = []
        for p in arc:
            x += p[0]
            y += p[1]
            pts.append([x * sx + tx, y * sy + ty])
        out.append(pts)
    return out


def stitch(ring_arcs: list[int], arcs: list[Ring]) -> Ring:
    """One ring from its arc indices (``~i`` is arc ``i`` reversed), shared ends once.

    >>> stitch([0, ~1], [[[0, 0], [1, 0]], [[0, 0], [1, 1], [1, 0]]])
    [[0, 0], [1, 0], [1, 1], [0, 0]]
    """
    ring: Ring = []
    for i in ring_arcs:
        pts = arcs[i] if i >= 0 else arcs[~i][::-1]
        ring.extend(pts if not ring else pts[1:])
    return ring


def compact(ring: Ring, digits: int) -> Ring | None:
    """The ring rounded, without repeated points; ``None`` if fewer than 4 points remain."""
    out: Ring = []
    for x, y in ring:
        p = [round(x, digits), round(y, digits)]
        if not out or out[-1] != p:
            out.append(p)
    if out and out[0] != out[-1]:
        out.append(out[0])
    return out if len(out) >= 4 else None


def to_geojson(topology: dict[str, Any], name: str, digits: int) -> dict[str, Any]:
    """The object ``name`` of the topology as a GeoJSON FeatureCollection."""
    arcs = decode_arcs(topology)
    features = []
    for geom in topology["objects"][name]["geometries"]:
        if geom.get("type") == "Polygon":
            polygons = [geom["arcs"]]
        elif geom.get("type") == "MultiPolygon":
            polygons = geom["arcs"]
        else:
            continue
        parts = []
        for poly in polygons:
            rings = [compact(stitch(r, arcs), digits) for r in poly]
            if rings and rings[0] is not None:
                parts.append([r for r in rings if r is not None])
        if not parts:
            continue
        geometry = (
            {"type": "Polygon", "coordinates": parts[0]}
            if len(parts) == 1
            else {"type": "MultiPolygon", "coordinates": parts}
        )
        props = {"name": (geom.get("properties") or {}).get("name", "")}
        features.append({"type": "Feature", "id": geom.get("id"), "properties": props,
                         "geometry": geometry})  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def fetch(tmp: Path) -> Path:
    """``countries-50m.json`` of ``world-atlas@2``, packed by npm into ``tmp``."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not installed: pass --topojson FILE instead")
    done = subprocess.run(  # noqa: S603 (a fixed command line)
        [npm, "pack", PACKAGE], cwd=tmp, check=True, capture_output=True, text=True
    )
    tgz = tmp / done.stdout.strip().splitlines()[-1]
    with tarfile.open(tgz) as tar:
        tar.extract(MEMBER, tmp, filter="data")
    return tmp / MEMBER


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topojson", type=Path, help="a world-atlas countries TopoJSON file")
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT}")
    parser.add_argument("--digits", type=int, default=2, help="decimals kept (default 2)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        src = args.topojson or fetch(Path(tmp))
        topology = json.loads(src.read_text(encoding="utf-8"))
    fc = to_geojson(topology, "countries", args.digits)
    text = json.dumps(fc, separators=(",", ":"), ensure_ascii=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"{args.out}: {len(fc['features'])} countries, {len(text.encode()):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
