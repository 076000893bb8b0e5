"""Incident reports as self-contained HTML pages, in the reader's language.

:func:`render_incident_report` takes an incident as the reader may see it
(:meth:`~skyparley.service.live.LiveService.incident_view`) and draws, in inline SVG (no
script, no network): a map of both tracks around the closest point (north up, NM), their
vertical profiles, and the horizontal and vertical separation over time against the minima.
Labels come from the message catalogs; Arabic pages are laid out right to left (the plots
keep their left-to-right axes).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from skyparley.domain.times import format_time

__all__ = ["Labels", "render_incident_report"]

_W, _H = 640, 360
_PAD = 48
_COLOURS = ("#1f5fa8", "#c0392b", "#2e7d32", "#8e44ad")


class Labels(Protocol):
    """The catalogs' labels (``adapters.catalogs.Catalogs``)."""

    def label(self, message_id: str, lang: str, /, **args: str | int | float) -> str:
        """A label in ``lang``."""
        ...


def _esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def _nice(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    return [start + k * step for k in range(int((hi - start) / step) + 1)]


class _Plot:
    """A plot frame: data ranges mapped to the SVG box."""

    def __init__(self, x: tuple[float, float], y: tuple[float, float], *, equal: bool = False):
        x0, x1 = x
        y0, y1 = y
        if x1 <= x0:
            x0, x1 = x0 - 1, x1 + 1
        if y1 <= y0:
            y0, y1 = y0 - 1, y1 + 1
        if equal:  # the same scale on both axes (a map)
            sx, sy = (x1 - x0) / (_W - 2 * _PAD), (y1 - y0) / (_H - 2 * _PAD)
            s = max(sx, sy)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            x0, x1 = cx - s * (_W - 2 * _PAD) / 2, cx + s * (_W - 2 * _PAD) / 2
            y0, y1 = cy - s * (_H - 2 * _PAD) / 2, cy + s * (_H - 2 * _PAD) / 2
        self.x0, self.x1, self.y0, self.y1 = x0, x1, y0, y1

    def px(self, x: float) -> float:
        return _PAD + (x - self.x0) / (self.x1 - self.x0) * (_W - 2 * _PAD)

    def py(self, y: float) -> float:
        return _H - _PAD - (y - self.y0) / (self.y1 - self.y0) * (_H - 2 * _PAD)

    def line(self, xs: Sequence[float], ys: Sequence[float], colour: str, dash: str = "") -> str:
        pts = " ".join(
            f"{self.px(x):.1f},{self.py(y):.1f}"
            for x, y in zip(xs, ys, strict=True)
            if math.isfinite(x) and math.isfinite(y)
        )
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        return f'<polyline fill="none" stroke="{colour}" stroke-width="2"{extra} points="{pts}"/>'

    def axes(self, xticks: list[tuple[float, str]], yticks: list[tuple[float, str]]) -> str:
        out = [
            (
                f'<rect x="{_PAD}" y="{_PAD}" width="{_W - 2 * _PAD}" height="{_H - 2 * _PAD}" '
                'fill="none" stroke="#999"/>'
            )
        ]
        for x, text in xticks:
            if self.x0 <= x <= self.x1:
                px = self.px(x)
                out.append(
                    f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{_H - _PAD}" '
                    f'y2="{_H - _PAD + 4}" stroke="#999"/>'
                )
                out.append(
                    f'<text x="{px:.1f}" y="{_H - _PAD + 16}" font-size="11" '
                    f'text-anchor="middle">{_esc(text)}</text>'
                )
        for y, text in yticks:
            if self.y0 <= y <= self.y1:
                py = self.py(y)
                out.append(
                    f'<line x1="{_PAD - 4}" x2="{_PAD}" y1="{py:.1f}" y2="{py:.1f}" stroke="#999"/>'
                )
                out.append(
                    f'<text x="{_PAD - 6}" y="{py + 4:.1f}" font-size="11" '
                    f'text-anchor="end">{_esc(text)}</text>'
                )
        return "".join(out)


def _svg(body: str, title: str) -> str:
    return (
        f'<figure dir="ltr"><svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" role="img" aria-label="{_esc(title)}">{body}</svg>'
        f"<figcaption>{_esc(title)}</figcaption></figure>"
    )


def _tracks(view: dict[str, Any]) -> dict[str, dict[str, np.ndarray[Any, Any]]]:
    out = {}
    for name, cols in view["evidence"].get("tracks", {}).items():
        out[name] = {k: np.asarray(v, dtype=float) for k, v in cols.items()}
    return out


def _time_ticks(t0: float, t1: float) -> list[tuple[float, str]]:
    return [(t, format_time(t)[11:19]) for t in _nice(t0, t1)]


def _map(
    view: dict[str, Any], tracks: dict[str, dict[str, np.ndarray[Any, Any]]], title: str
) -> str:
    pts = [(c["lat_deg"], c["lon_deg"]) for c in tracks.values() if len(c["time"])]
    if not pts:
        return ""
    lat0 = float(np.nanmean(np.concatenate([p[0] for p in pts])))
    lon0 = float(np.nanmean(np.concatenate([p[1] for p in pts])))
    xy = {}
    for name, c in tracks.items():
        x = (c["lon_deg"] - lon0 + 540) % 360 - 180
        xy[name] = (x * 60 * math.cos(math.radians(lat0)), (c["lat_deg"] - lat0) * 60)
    xs = np.concatenate([v[0] for v in xy.values()])
    ys = np.concatenate([v[1] for v in xy.values()])
    plot = _Plot((float(xs.min()), float(xs.max())), (float(ys.min()), float(ys.max())), equal=True)
    body = [
        plot.axes(
            [(x, f"{x:g}") for x in _nice(plot.x0, plot.x1)],
            [(y, f"{y:g}") for y in _nice(plot.y0, plot.y1)],
        )
    ]
    for k, (name, (x, y)) in enumerate(xy.items()):
        colour = _COLOURS[k % len(_COLOURS)]
        body.append(plot.line(list(x), list(y), colour))
        if len(x):
            body.append(
                f'<circle cx="{plot.px(float(x[-1])):.1f}" cy="{plot.py(float(y[-1])):.1f}"'
                f' r="4" fill="{colour}"/>'
            )
            body.append(
                f'<text x="{plot.px(float(x[-1])) + 6:.1f}" '
                f'y="{plot.py(float(y[-1])) - 6:.1f}" font-size="12" '
                f'fill="{colour}">{_esc(name)}</text>'
            )
    return _svg("".join(body), title)


def _profile(tracks: dict[str, dict[str, np.ndarray[Any, Any]]], title: str) -> str:
    ts = [c["time"] for c in tracks.values() if len(c["time"])]
    if not ts:
        return ""
    t_all = np.concatenate(ts)
    alts = np.concatenate([c["alt_ft"] for c in tracks.values() if len(c["time"])])
    plot = _Plot(
        (float(t_all.min()), float(t_all.max())), (float(alts.min()) - 500, float(alts.max()) + 500)
    )
    body = [
        plot.axes(
            _time_ticks(plot.x0, plot.x1), [(y, f"{y:,.0f}") for y in _nice(plot.y0, plot.y1)]
        )
    ]
    for k, c in enumerate(tracks.values()):
        body.append(plot.line(list(c["time"]), list(c["alt_ft"]), _COLOURS[k % len(_COLOURS)]))
    return _svg("".join(body), title)


def _separation(
    view: dict[str, Any], tracks: dict[str, dict[str, np.ndarray[Any, Any]]], title: str
) -> str:
    if len(tracks) != 2:
        return ""
    (_, a), (_, b) = tracks.items()
    if not len(a["time"]) or not len(b["time"]):
        return ""
    t0 = max(a["time"].min(), b["time"].min())
    t1 = min(a["time"].max(), b["time"].max())
    if t1 <= t0:
        return ""
    t = np.linspace(t0, t1, 200)
    lat_a, lon_a = np.interp(t, a["time"], a["lat_deg"]), np.interp(t, a["time"], a["lon_deg"])
    lat_b, lon_b = np.interp(t, b["time"], b["lat_deg"]), np.interp(t, b["time"], b["lon_deg"])
    la, lb = np.radians(lat_a), np.radians(lat_b)
    dlon = np.radians(lon_b - lon_a)
    cosd = np.sin(la) * np.sin(lb) + np.cos(la) * np.cos(lb) * np.cos(dlon)
    h_nm = np.degrees(np.arccos(np.clip(cosd, -1, 1))) * 60.0
    v_ft = np.abs(np.interp(t, a["time"], a["alt_ft"]) - np.interp(t, b["time"], b["alt_ft"]))
    minima = view["evidence"].get("minima", {})
    hsep = float(minima.get("hsep_nm", 5.0))
    vsep = float(minima.get("vsep_ft", 1000.0))
    # one axis in NM, the vertical separation scaled so that vsep sits at the height of hsep
    scale = hsep / vsep
    top = max(float(h_nm.max()), float((v_ft * scale).max()), hsep) * 1.1
    plot = _Plot((t0, t1), (0.0, top))
    body = [plot.axes(_time_ticks(t0, t1), [(y, f"{y:g}") for y in _nice(0.0, top)])]
    body.append(plot.line(list(t), list(h_nm), _COLOURS[0]))
    body.append(plot.line(list(t), list(v_ft * scale), _COLOURS[1]))
    body.append(plot.line([t0, t1], [hsep, hsep], "#555", dash="6 4"))
    body.append(
        f'<text x="{_W - _PAD - 4}" y="{plot.py(hsep) - 4:.1f}" font-size="11" '
        f'text-anchor="end">{hsep:g} NM / {vsep:g} ft</text>'
    )
    return _svg("".join(body), title)


_ALERT_EVENTS = ("raised", "upgraded", "downgraded", "resolved")
"""The changes of an alert, each with its ``report-event-<kind>`` label in the catalogs."""


def render_incident_report(view: dict[str, Any], lang: str, labels: Labels) -> str:
    """The incident's report as one HTML page in ``lang`` (see the module)."""

    def L(key: str, **args: str | int | float) -> str:  # noqa: N802 (reads like a label)
        return _esc(labels.label(key, lang, **args))

    def _event(kind: str) -> str:
        """An alert's change (raised, upgraded...) in the reader's words."""
        return L(f"report-event-{kind}") if kind in _ALERT_EVENTS else _esc(kind)

    tracks = _tracks(view)
    kind = view["kind"]
    rows = [
        (L(f"report-kind-{kind}"), ""),
        (L("report-aircraft"), _esc(", ".join(view["pair"]))),
        (L("report-parties"), _esc(", ".join(view["parties"]))),
        (L("report-start"), _esc(view["start"])),
        (L("report-end"), _esc(view["end"])),
    ]
    if kind == "los":
        rows += [
            (
                L("report-min-hsep"),
                f"{view['min_hdist_nm']:.2f} NM ({_esc(view['min_hdist_time'])})",
            ),
            (
                L("report-min-vsep"),
                f"{view['min_vdist_ft']:.0f} ft ({_esc(view['min_vdist_time'])})",
            ),
        ]
        closest = view["evidence"].get("closest") or {}
        if closest.get("time"):
            rows.append(
                (
                    L("report-closest"),
                    (
                        f"{closest['hdist_nm']:.2f} NM, {closest['vdist_ft']:.0f} ft "
                        f"({_esc(closest['time'])})"
                    ),
                )
            )
        minima = view["evidence"].get("minima") or {}
        if minima:
            rows.append(
                (L("report-minima"), f"{minima.get('hsep_nm')} NM, {minima.get('vsep_ft')} ft")
            )
    elif "area" in view["evidence"]:
        rows.append((L("report-area"), _esc(view["evidence"]["area"])))
    rows.append((L("report-ledger"), f"#{view['ledger_index']} {_esc(view['entry_hash'][:16])}…"))
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    alert_rows: list[str] = []
    for al in view["evidence"].get("alerts", []):
        alert_rows.extend(
            f"<tr><td>{_esc(h['t'])}</td><td>{_event(h['kind'])}</td>"
            f"<td>{_esc(h.get('level') or '')}</td></tr>"
            for h in al.get("history", [])
        )
        for m in al.get("messages", []):
            acks = ", ".join(f"{a['party']} {a['at']}" for a in m.get("acks", []))
            acked = f"{L('report-acked-by')}: {_esc(acks)}" if acks else L("report-not-acked")
            alert_rows.append(
                f"<tr><td>{_esc(m['sent'])}</td><td>{_esc(m.get('level') or '')} → "
                f"{_esc(', '.join(m['to']))}</td><td>{acked}</td></tr>"
            )
    alerts = (
        "<table><tr><th>"
        + L("report-time")
        + "</th><th>"
        + L("report-alert-event")
        + "</th><th>"
        + L("report-alert-level")
        + "</th></tr>"
        + "".join(alert_rows)
        + "</table>"
        if alert_rows
        else f"<p>{L('report-none')}</p>"
    )
    direction = "rtl" if lang == "ar" else "ltr"
    title = L("report-title", incident=view["incident_id"])
    figures = "".join(
        x
        for x in (
            _map(view, tracks, labels.label("report-map", lang)),
            _profile(tracks, labels.label("report-profile", lang)),
            _separation(view, tracks, labels.label("report-separation", lang)),
        )
        if x
    )
    return (
        f'<!doctype html><html lang="{_esc(lang)}" dir="{direction}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>body{{font-family:sans-serif;margin:2em;max-width:60em}}"
        "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;"
        "padding:.3em .6em;text-align:start}figure{margin:1.5em 0}</style></head><body>"
        f"<h1>{title}</h1><table>{table}</table>{figures}<h2>{L('report-alerts')}</h2>{alerts}"
        "</body></html>"
    )
