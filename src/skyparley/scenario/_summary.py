"""Beat 6: a daily summary per party, read from the store.

Per UTC day and party: operation notices filed (versions), alerts received (distinct
encounters, and the level messages that announced them), level messages acknowledged with
the median and worst time to acknowledge, escalations of messages the party left
unacknowledged, and incidents it was party to.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from skyparley.domain.ports import Store
from skyparley.domain.records import MessageRecord

__all__ = ["PartyDay", "daily_summary", "format_summary"]


@dataclass
class PartyDay:
    """One party's day."""

    day: str
    party: str
    notices: int = 0
    alerts: int = 0
    alert_messages: int = 0
    acked: int = 0
    ack_s: list[float] = field(default_factory=list)
    escalations: int = 0
    incidents: int = 0

    @property
    def median_ack_s(self) -> float | None:
        """Median time to acknowledge an alert message (None when none was)."""
        return statistics.median(self.ack_s) if self.ack_s else None

    @property
    def worst_ack_s(self) -> float | None:
        """Longest time to acknowledge an alert message (None when none was)."""
        return max(self.ack_s) if self.ack_s else None


def _day(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, tz=UTC).strftime("%Y-%m-%d")


def _inbox(store: Store, party: str) -> Iterator[MessageRecord]:
    after = 0
    while True:
        page = store.inbox(party, after=after, limit=500)
        if not page:
            return
        yield from page
        after = page[-1].seq


def daily_summary(store: Store, parties: Iterable[str]) -> list[PartyDay]:
    """Every party's summary for every UTC day on which anything happened to any of them,
    sorted by day then in the order of ``parties``."""
    order = list(parties)
    rows: dict[tuple[str, str], PartyDay] = {}

    def row(t_s: float, party: str) -> PartyDay:
        key = (_day(t_s), party)
        if key not in rows:
            rows[key] = PartyDay(*key)
        return rows[key]

    for party in order:
        for rec in store.notices(party):
            for version in store.notice_versions(party, rec.notice.id):
                row(version.recorded_s, party).notices += 1
        alerts: dict[str, set[str]] = {}
        for m in _inbox(store, party):
            for esc in store.escalations(m.id):
                if esc.party == party:
                    row(esc.at_s, party).escalations += 1
            if m.kind != "alert":
                continue
            r = row(m.sent_s, party)
            r.alert_messages += 1
            alerts.setdefault(r.day, set()).add(m.about or m.id)
            for ack in store.acks(m.id):
                if ack.party == party:
                    r.acked += 1
                    r.ack_s.append(max(0.0, ack.acked_s - m.sent_s))
        for day, ids in alerts.items():
            rows[(day, party)].alerts = len(ids)
        for inc in store.incidents(party):
            row(inc.start_s, party).incidents += 1
    days = sorted({day for day, _ in rows})
    return [rows.get((d, p)) or PartyDay(d, p) for d in days for p in order]


def _dur(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


def format_summary(rows: Iterable[PartyDay]) -> str:
    """The summary as a fixed-width table."""
    head = (
        f"{'day':<10}  {'party':<9}  {'notices':>7}  {'alerts':>6}  {'messages':>8}  "
        f"{'acked':>5}  {'median ack':>10}  {'worst ack':>9}  {'escalations':>11}  "
        f"{'incidents':>9}"
    )
    lines = [head]
    lines.extend(
        f"{r.day:<10}  {r.party:<9}  {r.notices:>7}  {r.alerts:>6}  {r.alert_messages:>8}  "
        f"{r.acked:>5}  {_dur(r.median_ack_s):>10}  {_dur(r.worst_ack_s):>9}  "
        f"{r.escalations:>11}  {r.incidents:>9}"
        for r in rows
    )
    return "\n".join(lines)
