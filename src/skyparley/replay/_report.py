"""What a replay writes: Parquet tables, the summary page and one page per incident.

Pages are self-contained HTML with inline SVG: no script, no network, nothing to install.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from skyparley.domain.alerting import AlertEvent
from skyparley.domain.protocol import Protocol
from skyparley.domain.times import format_time
from skyparley.geo.areas import covers, to_geojson
from skyparley.replay._fold import Incident

__all__ = [
    "ALERT_SCHEMA",
    "INCIDENT_SCHEMA",
    "AlertWriter",
    "Summary",
    "alert_id",
    "incident_name",
    "incident_page",
]

INCIDENT_SCHEMA = pa.schema(
    [
        ("incident", pa.string()),
        ("a", pa.string()),
        ("b", pa.string()),
        ("party_a", pa.string()),
        ("party_b", pa.string()),
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("duration_s", pa.float64()),
        ("min_hdist_nm", pa.float64()),
        ("min_hdist_t_s", pa.float64()),
        ("vdist_at_min_hdist_ft", pa.float64()),
        ("min_vdist_ft", pa.float64()),
        ("min_vdist_t_s", pa.float64()),
        ("hdist_at_min_vdist_nm", pa.float64()),
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
        ("alt_ft", pa.float64()),
        ("area", pa.string()),
        ("alert_level", pa.string()),
        ("alert_raised_s", pa.float64()),
        ("report", pa.string()),
    ]
)

ALERT_SCHEMA = pa.schema(
    [
        ("alert", pa.string()),
        ("t_s", pa.float64()),
        ("a", pa.string()),
        ("b", pa.string()),
        ("party_a", pa.string()),
        ("party_b", pa.string()),
        ("event", pa.string()),
        ("level", pa.string()),
        ("previous", pa.string()),
        ("raised_s", pa.float64()),
        ("tin_s", pa.float64()),
        ("tcpa_s", pa.float64()),
        ("dcpa_nm", pa.float64()),
        ("hdist_nm", pa.float64()),
        ("vdist_ft", pa.float64()),
    ]
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _t(t_s: float) -> str:
    return format_time(t_s) if math.isfinite(t_s) else "-"


def alert_id(a: str, b: str, raised_s: float) -> str:
    """The name of an alert: its pair and when it was raised."""
    return f"{a}|{b}|{format_time(raised_s)}"


class AlertWriter:
    """Streams alert events into ``alerts.parquet``, a few thousand rows at a time."""

    def __init__(self, path: Path, parties: dict[str, str]) -> None:
        self.path = path
        self.parties = parties
        self.rows: list[AlertEvent] = []
        self.writer = pq.ParquetWriter(path, ALERT_SCHEMA)
        self.count = 0
        self.raised: Counter[str] = Counter()
        self.raised_by_party: Counter[str] = Counter()
        self.raised_by_hour: Counter[str] = Counter()

    def add(self, events: list[AlertEvent]) -> None:
        self.rows.extend(events)
        for e in events:
            if e.kind == "raised":
                self.raised[e.level or ""] += 1
                self.raised_by_party[_pair_of_parties(self.parties, e.a, e.b)] += 1
                self.raised_by_hour[format_time(e.t_s)[:13] + ":00Z"] += 1
        if len(self.rows) >= 8192:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        ev = self.rows
        p = self.parties
        table = pa.table(
            {
                "alert": [alert_id(e.a, e.b, e.raised_s) for e in ev],
                "t_s": [e.t_s for e in ev],
                "a": [e.a for e in ev],
                "b": [e.b for e in ev],
                "party_a": [p.get(e.a) for e in ev],
                "party_b": [p.get(e.b) for e in ev],
                "event": [e.kind for e in ev],
                "level": [e.level for e in ev],
                "previous": [e.previous for e in ev],
                "raised_s": [e.raised_s for e in ev],
                "tin_s": [e.tin_s for e in ev],
                "tcpa_s": [e.tcpa_s for e in ev],
                "dcpa_nm": [e.dcpa_nm for e in ev],
                "hdist_nm": [e.hdist_nm for e in ev],
                "vdist_ft": [e.vdist_ft for e in ev],
            },
            schema=ALERT_SCHEMA,
        )
        self.writer.write_table(table)
        self.count += len(ev)
        self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _pair_of_parties(parties: dict[str, str], a: str, b: str) -> str:
    pa_, pb_ = sorted((parties.get(a) or "unknown", parties.get(b) or "unknown"))
    return f"{pa_} / {pb_}"


# ------------------------------------------------------------------------------------ SVG


@dataclass(slots=True)
class _Frame:
    """A plot box mapping data x, y into SVG pixels."""

    x0: float
    x1: float
    y0: float
    y1: float
    width: int = 560
    height: int = 300
    pad: int = 44

    def x(self, v: Any) -> Any:
        span = self.x1 - self.x0 or 1.0
        return self.pad + (v - self.x0) / span * (self.width - 2 * self.pad)

    def y(self, v: Any) -> Any:
        span = self.y1 - self.y0 or 1.0
        return self.height - self.pad - (v - self.y0) / span * (self.height - 2 * self.pad)


def _fmt(v: float) -> str:
    return f"{v:.1f}"


def _polyline(frame: _Frame, xs: Any, ys: Any, style: str) -> str:
    px = frame.x(np.asarray(xs, dtype=float))
    py = frame.y(np.asarray(ys, dtype=float))
    both = np.empty(2 * len(px))
    both[0::2], both[1::2] = px, py
    pts = ("%.1f,%.1f " * len(px) % tuple(both.tolist())).rstrip()
    return f'<polyline fill="none" {style} points="{pts}"/>'


def _axes(
    frame: _Frame,
    xlabel: str,
    ylabel: str,
    xticks: list[tuple[float, str]],
    yticks: list[tuple[float, str]],
) -> str:
    f = frame
    out = [
        (
            f'<rect x="{f.pad}" y="{f.pad}" width="{f.width - 2 * f.pad}" '
            f'height="{f.height - 2 * f.pad}" fill="#fbfbfb" stroke="#999"/>'
        )
    ]
    for v, label in xticks:
        x = _fmt(f.x(v))
        out.append(
            f'<line x1="{x}" x2="{x}" y1="{f.pad}" y2="{f.height - f.pad}" stroke="#e4e4e4"/>'
        )
        out.append(
            f'<text x="{x}" y="{f.height - f.pad + 14}" text-anchor="middle">'
            f"{html.escape(label)}</text>"
        )
    for v, label in yticks:
        y = _fmt(f.y(v))
        out.append(
            f'<line x1="{f.pad}" x2="{f.width - f.pad}" y1="{y}" y2="{y}" stroke="#e4e4e4"/>'
        )
        out.append(
            f'<text x="{f.pad - 4}" y="{y}" text-anchor="end" dy="4">{html.escape(label)}</text>'
        )
    out.append(
        f'<text x="{f.width / 2}" y="{f.height - 6}" text-anchor="middle">'
        f"{html.escape(xlabel)}</text>"
    )
    out.append(
        f'<text x="12" y="{f.height / 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {f.height / 2})">{html.escape(ylabel)}</text>'
    )
    return "".join(out)


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), default=raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _svg(frame: _Frame, body: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {frame.width} '
        f'{frame.height}" width="{frame.width}" height="{frame.height}" '
        f'font-family="sans-serif" font-size="11"><title>{html.escape(title)}</title>'
        f"{body}</svg>"
    )


def _local_xy(
    lat: np.ndarray[Any, Any], lon: np.ndarray[Any, Any], lat0: float, lon0: float
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Nautical miles east and north of (lat0, lon0): equirectangular, fine for a few
    hundred miles and across the antimeridian."""
    dlon = (lon - lon0 + 180.0) % 360.0 - 180.0
    return dlon * 60.0 * math.cos(math.radians(lat0)), (lat - lat0) * 60.0


def _decimate(n: int, limit: int = 400) -> np.ndarray[Any, Any]:
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(int))


def _square(
    xs: np.ndarray[Any, Any], ys: np.ndarray[Any, Any], frame: _Frame, pad: float = 1.0
) -> _Frame:
    x0, x1 = float(xs.min()) - pad, float(xs.max()) + pad
    y0, y1 = float(ys.min()) - pad, float(ys.max()) + pad
    # One NM is as long across as up: widen the short side.
    w_px = frame.width - 2 * frame.pad
    h_px = frame.height - 2 * frame.pad
    scale = max((x1 - x0) / w_px, (y1 - y0) / h_px)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return _Frame(
        cx - scale * w_px / 2,
        cx + scale * w_px / 2,
        cy - scale * h_px / 2,
        cy + scale * h_px / 2,
        frame.width,
        frame.height,
        frame.pad,
    )


_STYLE = """<style>
body{font-family:sans-serif;margin:2em;color:#222;max-width:72em}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}
th{background:#f2f2f2}td.l,th.l{text-align:left}
.a{stroke:#1f5fbf}.b{stroke:#c0392b}
figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-size:.9em;color:#555}
</style>"""


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>{_STYLE}</head><body>{body}</body></html>\n"
    )


class _Html(str):
    """Text that is already HTML: a table cell takes it as it is."""

    __slots__ = ()


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1) -> str:
    def cell(tag: str, i: int, v: Any) -> str:
        cls = ' class="l"' if i < left else ""
        text = v if isinstance(v, _Html) else html.escape(str(v))
        return f"<{tag}{cls}>{text}</{tag}>"

    out = ["<table><tr>", *(cell("th", i, h) for i, h in enumerate(head)), "</tr>"]
    out.extend("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    out.append("</table>")
    return "".join(out)


# ------------------------------------------------------------------------------ incidents


def incident_name(inc: Incident) -> str:
    """The incident's id: start time and pair, safe as a file name."""
    start = format_time(inc.start_s).replace(":", "").replace("-", "")
    return _UNSAFE.sub("_", f"{start}_{inc.a}_{inc.b}")


def incident_page(
    inc: Incident, name: str, parties: dict[str, str], hsep_nm: float, vsep_ft: float
) -> str:
    """The HTML report of one incident: map, vertical profile, separation over time."""
    tr = np.array([[*r[:3], float(r[3]), *r[4:]] for r in inc.trace], dtype=float)
    if tr.size == 0:
        tr = np.zeros((0, 10))
    keep = _decimate(len(tr))
    tr = tr[keep]
    t = tr[:, 0]
    figs = []
    if len(tr):
        rel = t - inc.start_s
        # Map
        lat0, lon0 = inc.lat_deg, inc.lon_deg
        xa, ya = _local_xy(tr[:, 4], tr[:, 5], lat0, lon0)
        xb, yb = _local_xy(tr[:, 7], tr[:, 8], lat0, lon0)
        f = _square(np.concatenate([xa, xb]), np.concatenate([ya, yb]), _Frame(0, 1, 0, 1))
        xt = _ticks(f.x0, f.x1)
        yt = _ticks(f.y0, f.y1)
        body = _axes(
            f,
            "NM east of the closest point",
            "NM north",
            [(v, f"{v:g}") for v in xt],
            [(v, f"{v:g}") for v in yt],
        )
        body += _polyline(f, xa, ya, 'class="a" stroke-width="2"')
        body += _polyline(f, xb, yb, 'class="b" stroke-width="2"')
        i = int(np.argmin(tr[:, 1]))
        for x, y, c in ((xa[i], ya[i], "#1f5fbf"), (xb[i], yb[i], "#c0392b")):
            body += f'<circle cx="{_fmt(f.x(x))}" cy="{_fmt(f.y(y))}" r="4" fill="{c}"/>'
        figs.append(
            (
                "Map: both tracks while in conflict, dots at the closest approach",
                _svg(f, body, "map"),
            )
        )
        # Vertical profile
        alts = np.concatenate([tr[:, 6], tr[:, 9]])
        f = _Frame(
            float(rel.min()),
            float(rel.max()) or 1.0,
            float(alts.min()) - 500,
            float(alts.max()) + 500,
        )
        body = _axes(
            f,
            "seconds from the start of the loss of separation",
            "altitude (ft)",
            [(v, f"{v:g}") for v in _ticks(f.x0, f.x1)],
            [(v, f"{v:,.0f}") for v in _ticks(f.y0, f.y1)],
        )
        body += _polyline(f, rel, tr[:, 6], 'class="a" stroke-width="2"')
        body += _polyline(f, rel, tr[:, 9], 'class="b" stroke-width="2"')
        figs.append(("Vertical profile", _svg(f, body, "vertical profile")))
        # Separation over time
        h_top = max(float(tr[:, 1].max()), hsep_nm) * 1.1
        f = _Frame(float(rel.min()), float(rel.max()) or 1.0, 0.0, h_top)
        body = _axes(
            f,
            "seconds from the start of the loss of separation",
            "horizontal separation (NM)",
            [(v, f"{v:g}") for v in _ticks(f.x0, f.x1)],
            [(v, f"{v:g}") for v in _ticks(0.0, h_top)],
        )
        los = tr[:, 3] > 0
        if los.any():
            lo_x, hi_x = f.x(float(rel[los].min())), f.x(float(rel[los].max()))
            body += (
                f'<rect x="{_fmt(lo_x)}" y="{f.pad}" width="{_fmt(max(hi_x - lo_x, 1))}" '
                f'height="{f.height - 2 * f.pad}" fill="#fde2e2"/>'
            )
        y = _fmt(f.y(hsep_nm))
        body += (
            f'<line x1="{f.pad}" x2="{f.width - f.pad}" y1="{y}" y2="{y}" '
            'stroke="#000" stroke-dasharray="4 3"/>'
        )
        body += _polyline(f, rel, tr[:, 1], 'stroke="#333" stroke-width="2"')
        figs.append(
            (
                f"Horizontal separation; dashed: {hsep_nm:g} NM; shaded: loss of separation",
                _svg(f, body, "horizontal separation"),
            )
        )
        v_top = max(float(tr[:, 2].max()), vsep_ft) * 1.1
        f = _Frame(float(rel.min()), float(rel.max()) or 1.0, 0.0, v_top)
        body = _axes(
            f,
            "seconds from the start of the loss of separation",
            "vertical separation (ft)",
            [(v, f"{v:g}") for v in _ticks(f.x0, f.x1)],
            [(v, f"{v:,.0f}") for v in _ticks(0.0, v_top)],
        )
        y = _fmt(f.y(vsep_ft))
        body += (
            f'<line x1="{f.pad}" x2="{f.width - f.pad}" y1="{y}" y2="{y}" '
            'stroke="#000" stroke-dasharray="4 3"/>'
        )
        body += _polyline(f, rel, tr[:, 2], 'stroke="#333" stroke-width="2"')
        figs.append(
            (f"Vertical separation; dashed: {vsep_ft:g} ft", _svg(f, body, "vertical separation"))
        )
    pa_, pb_ = parties.get(inc.a) or "unknown", parties.get(inc.b) or "unknown"
    facts = _table(
        ["", inc.a, inc.b],
        [["party", pa_, pb_]],
    ) + _table(
        ["measure", "value"],
        [
            ["loss of separation", f"{_t(inc.start_s)} .. {_t(inc.end_s)}"],
            ["duration", f"{inc.end_s - inc.start_s:g} s"],
            [
                "closest horizontal",
                (
                    f"{inc.min_hdist_nm:.2f} NM at {_t(inc.min_hdist_t_s)} "
                    f"({inc.vdist_at_min_hdist_ft:.0f} ft apart vertically)"
                ),
            ],
            [
                "closest vertical",
                (
                    f"{inc.min_vdist_ft:.0f} ft at {_t(inc.min_vdist_t_s)} "
                    f"({inc.hdist_at_min_vdist_nm:.2f} NM apart horizontally)"
                ),
            ],
            ["where", f"{inc.lat_deg:.4f}, {inc.lon_deg:.4f}, about {inc.alt_ft:,.0f} ft"],
            [
                "alert",
                "none raised before or during it"
                if inc.alert_level is None
                else f"{inc.alert_level} (raised {_t(inc.alert_raised_s)})",
            ],
        ],
    )
    legend = (
        f'<p><span style="color:#1f5fbf">&#9632; {html.escape(inc.a)}</span> '
        f'<span style="color:#c0392b">&#9632; {html.escape(inc.b)}</span></p>'
    )
    figures = "".join(
        f"<figure>{svg}<figcaption>{html.escape(cap)}</figcaption></figure>" for cap, svg in figs
    )
    title = f"Incident {inc.a} / {inc.b}, {_t(inc.start_s)}"
    body = (
        f"<h1>{html.escape(title)}</h1><p>Incident {html.escape(name)}. "
        f'<a href="../summary.html">Summary</a></p>{facts}{legend}{figures}'
    )
    return _page(title, body)


# -------------------------------------------------------------------------------- summary


@dataclass(slots=True)
class Summary:
    """Counts gathered as incidents come, and the summary page."""

    protocol: Protocol
    parties: dict[str, str]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def area(self, lat: float, lon: float) -> str:
        """The protocol zone holding a position, else its 1-degree cell (``N48E002``)."""
        return self.areas([lat], [lon])[0]

    def areas(self, lat: Sequence[float], lon: Sequence[float]) -> list[str]:
        """:meth:`area` of many positions, each zone tested on all of them at once."""
        out: list[str | None] = [None] * len(lat)
        left = np.arange(len(lat))
        lat_a = np.asarray(lat, dtype=np.float64)
        lon_a = np.asarray(lon, dtype=np.float64)
        for z in self.protocol.zones:
            if z.area is None or not len(left):
                continue
            inside = covers(z.area, lon_a[left], lat_a[left])
            for k in left[inside].tolist():
                out[k] = z.id
            left = left[~inside]
        for k in left.tolist():
            la, lo = math.floor(lat[k]), math.floor(lon[k])
            ns, ew = "N" if la >= 0 else "S", "E" if lo >= 0 else "W"
            out[k] = f"{ns}{abs(la):02d}{ew}{abs(lo):03d}"
        return [a for a in out if a is not None]

    def add_all(self, items: Sequence[tuple[Incident, str]]) -> None:
        """Count incidents, each with the name of its report."""
        areas = self.areas([i.lat_deg for i, _ in items], [i.lon_deg for i, _ in items])
        for (inc, name), area in zip(items, areas, strict=True):
            self._add(inc, name, area)

    def _add(self, inc: Incident, name: str, area: str) -> None:
        p = self.parties
        self.rows.append(
            {
                "incident": name,
                "a": inc.a,
                "b": inc.b,
                "party_a": p.get(inc.a),
                "party_b": p.get(inc.b),
                "start_s": inc.start_s,
                "end_s": inc.end_s,
                "duration_s": inc.end_s - inc.start_s,
                "min_hdist_nm": inc.min_hdist_nm,
                "min_hdist_t_s": inc.min_hdist_t_s,
                "vdist_at_min_hdist_ft": inc.vdist_at_min_hdist_ft,
                "min_vdist_ft": inc.min_vdist_ft,
                "min_vdist_t_s": inc.min_vdist_t_s,
                "hdist_at_min_vdist_nm": inc.hdist_at_min_vdist_nm,
                "lat_deg": inc.lat_deg,
                "lon_deg": inc.lon_deg,
                "alt_ft": inc.alt_ft,
                "area": area,
                "alert_level": inc.alert_level,
                "alert_raised_s": inc.alert_raised_s,
                "report": f"incidents/{name}.html",
            }
        )

    def table(self) -> pa.Table:
        rows = sorted(self.rows, key=lambda r: (r["start_s"], r["a"], r["b"]))
        return pa.Table.from_pylist(rows, schema=INCIDENT_SCHEMA)

    def page(self, *, facts: list[tuple[str, str]], alerts: AlertWriter, hsep_nm: float) -> str:
        rows = sorted(self.rows, key=lambda r: (r["start_s"], r["a"], r["b"]))
        by_party: Counter[str] = Counter()
        by_pair: Counter[str] = Counter()
        for r in rows:
            a, b = r["party_a"] or "unknown", r["party_b"] or "unknown"
            by_pair[" / ".join(sorted((a, b)))] += 1
            by_party[a] += 1
            if b != a:
                by_party[b] += 1
        by_area = Counter(r["area"] for r in rows)
        by_hour = Counter(format_time(r["start_s"])[:13] + ":00Z" for r in rows)
        hours = sorted(set(by_hour) | set(alerts.raised_by_hour))
        parts = [
            "<h1>Replay summary</h1>",
            _table(["", ""], facts),
            "<h2>Incidents by party</h2>",
            _table(["party", "incidents"], sorted(by_party.items())),
            _table(
                ["parties", "incidents", "alerts raised"],
                [
                    [k, by_pair.get(k, 0), alerts.raised_by_party.get(k, 0)]
                    for k in sorted(set(by_pair) | set(alerts.raised_by_party))
                ],
            ),
            "<h2>Alerts raised by level</h2>",
            _table(
                ["level", "raised"],
                [[lv, alerts.raised.get(lv, 0)] for lv in self.protocol_levels()],
            ),
            (
                "<h2>Incidents by area</h2><p>A protocol zone, else the 1-degree cell of the "
                "closest approach.</p>"
            ),
            _table(["area", "incidents"], by_area.most_common()),
            "<h2>By hour (UTC)</h2>",
            _table(
                ["hour", "incidents", "alerts raised"],
                [[h, by_hour.get(h, 0), alerts.raised_by_hour.get(h, 0)] for h in hours],
            ),
            "<h2>Minimum horizontal separation</h2>",
            self._histogram(rows, hsep_nm),
            "<h2>Map of incidents</h2>",
            self._map(rows),
            "<h2>Incidents</h2>",
            self._list(rows),
        ]
        return _page("Replay summary", "".join(parts))

    def protocol_levels(self) -> list[str]:
        return [lv.name for lv in self.protocol.tactical.alert_levels]

    def _histogram(self, rows: list[dict[str, Any]], hsep_nm: float) -> str:
        step = 0.5 if hsep_nm <= 10 else 1.0
        edges = np.arange(0.0, hsep_nm + step, step)
        counts, _ = np.histogram([r["min_hdist_nm"] for r in rows], bins=edges)
        top = max(int(counts.max(initial=0)), 1)
        f = _Frame(0.0, float(edges[-1]), 0.0, top * 1.1)
        body = _axes(
            f,
            "minimum horizontal separation (NM)",
            "incidents",
            [(v, f"{v:g}") for v in edges[:: max(1, len(edges) // 10)]],
            [(v, f"{v:g}") for v in _ticks(0.0, top * 1.1) if v == int(v)],
        )
        for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True):
            x0, x1 = f.x(float(lo)), f.x(float(hi))
            y = f.y(float(c))
            body += (
                f'<rect x="{_fmt(x0 + 1)}" y="{_fmt(y)}" width="{_fmt(x1 - x0 - 2)}" '
                f'height="{_fmt(f.y(0.0) - y)}" fill="#4a78b5"><title>{lo:g}-{hi:g} NM: '
                f"{c}</title></rect>"
            )
        vert = Counter(
            "under 100 ft"
            if r["vdist_at_min_hdist_ft"] < 100
            else "100-500 ft"
            if r["vdist_at_min_hdist_ft"] < 500
            else "500 ft and more"
            for r in rows
        )
        return (
            f"<figure>{_svg(f, body, 'minimum separation')}<figcaption>Incidents by their "
            "minimum horizontal separation</figcaption></figure>"
            + _table(
                ["vertical separation at the closest approach", "incidents"],
                [[k, vert.get(k, 0)] for k in ("under 100 ft", "100-500 ft", "500 ft and more")],
            )
        )

    def _map(self, rows: list[dict[str, Any]]) -> str:
        lats = np.array([r["lat_deg"] for r in rows], dtype=float)
        lons = np.array([r["lon_deg"] for r in rows], dtype=float)
        zones = [(z, to_geojson(z.area)) for z in self.protocol.zones if z.area is not None]
        if not len(rows):
            return "<p>No incident.</p>"
        lat0 = float(np.median(lats))
        lon0 = float(
            np.degrees(np.arctan2(np.sin(np.radians(lons)).mean(), np.cos(np.radians(lons)).mean()))
        )
        x, y = _local_xy(lats, lons, lat0, lon0)
        f = _square(x, y, _Frame(0, 1, 0, 1, 760, 520), pad=10.0)
        body = _axes(
            f,
            "NM east",
            "NM north",
            [(v, f"{v:g}") for v in _ticks(f.x0, f.x1)],
            [(v, f"{v:g}") for v in _ticks(f.y0, f.y1)],
        )
        for z, gj in zones:
            ring = _outer_ring(gj)
            if ring is None:
                continue
            zx, zy = _local_xy(
                np.array([p[1] for p in ring]), np.array([p[0] for p in ring]), lat0, lon0
            )
            if zx.max() < f.x0 or zx.min() > f.x1 or zy.max() < f.y0 or zy.min() > f.y1:
                continue
            body += _polyline(f, zx, zy, 'stroke="#888" stroke-dasharray="3 3"')
            body += (
                f'<text x="{_fmt(f.x(float(zx.mean())))}" y="{_fmt(f.y(float(zy.max())))}"'
                f' fill="#666">{html.escape(z.id)}</text>'
            )
        for r, xi, yi in zip(rows, x, y, strict=True):
            sev = min(1.0, r["min_hdist_nm"] / max(1e-9, 5.0))
            colour = f"rgb({int(200 - 80 * sev)},{int(40 + 120 * sev)},{int(40 + 60 * sev)})"
            body += (
                f'<a href="{html.escape(r["report"])}"><circle cx="{_fmt(f.x(xi))}" '
                f'cy="{_fmt(f.y(yi))}" r="4" fill="{colour}" fill-opacity="0.8">'
                f"<title>{html.escape(r['a'])} / {html.escape(r['b'])} "
                f"{_t(r['start_s'])}: {r['min_hdist_nm']:.2f} NM</title></circle></a>"
            )
        cap = (
            f"Closest approach of each incident, around {lat0:.2f}, {lon0:.2f} "
            "(equirectangular; redder is closer; dashed: protocol zones)"
        )
        return f"<figure>{_svg(f, body, 'incidents')}<figcaption>{cap}</figcaption></figure>"

    def _list(self, rows: list[dict[str, Any]]) -> str:
        shown = rows[:_LISTED]
        out = _table(
            ["incident", "a", "b", "start", "duration s", "min NM", "ft then", "alert"],
            [
                [
                    _Html(f'<a href="{html.escape(r["report"])}">{html.escape(r["incident"])}</a>'),
                    r["a"],
                    r["b"],
                    _t(r["start_s"]),
                    f"{r['duration_s']:g}",
                    f"{r['min_hdist_nm']:.2f}",
                    f"{r['vdist_at_min_hdist_ft']:.0f}",
                    r["alert_level"] or "none",
                ]
                for r in shown
            ],
            left=3,
        )
        if len(rows) > len(shown):
            out += f"<p>{len(rows) - len(shown)} more in incidents.parquet.</p>"
        return out


_LISTED = 2000


def _outer_ring(gj: dict[str, Any]) -> list[list[float]] | None:
    coords = gj.get("coordinates")
    if gj.get("type") == "Polygon" and coords:
        return list(coords[0])
    if gj.get("type") == "MultiPolygon" and coords:
        return list(coords[0][0])
    return None
