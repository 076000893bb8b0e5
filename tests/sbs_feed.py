"""A fake dump1090 for tests: a TCP server on 127.0.0.1 that a test writes BaseStation lines to.

``FeedServer`` listens on a free loopback port; ``connection()`` waits (bounded) for the
next client to connect and returns its socket, to which the test writes lines and which it
may close to make the feed drop. :func:`sbs_state_lines` writes an aircraft's state as
dump1090 would: an airborne velocity (MSG,4) and an airborne position (MSG,3).
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from datetime import UTC, datetime

__all__ = ["FeedServer", "sbs_state_lines", "sbs_time", "wait_for"]


def sbs_time(t_s: float) -> tuple[str, str]:
    """The BaseStation date and time fields of an epoch time (UTC)."""
    d = datetime.fromtimestamp(t_s, tz=UTC)
    return d.strftime("%Y/%m/%d"), d.strftime("%H:%M:%S.") + f"{d.microsecond // 1000:03d}"


def _head(mtype: int, icao: str, t_s: float) -> str:
    date, clock = sbs_time(t_s)
    logged_date, logged_clock = sbs_time(t_s + 0.031)
    return f"MSG,{mtype},1,1,{icao},1,{date},{clock},{logged_date},{logged_clock}"


def sbs_state_lines(
    icao: str,
    t_s: float,
    *,
    lat_deg: float,
    lon_deg: float,
    alt_ft: float,
    gs_kt: float,
    trk_deg: float,
    vs_fpm: float = 0.0,
    callsign: str | None = None,
) -> list[str]:
    """The lines of one state (velocity, then position), with a callsign line if given."""
    lines = []
    if callsign is not None:
        lines.append(_head(1, icao, t_s) + f",{callsign:<8},,,,,,,,,,0")
    lines.append(_head(4, icao, t_s) + f",,,{gs_kt:.0f},{trk_deg:.1f},,,{vs_fpm:.0f},,0,0,0,0")
    lines.append(_head(3, icao, t_s) + f",,{alt_ft:.0f},,,{lat_deg:.5f},{lon_deg:.5f},,,0,0,0,0")
    return lines


class FeedServer:
    """A listening socket on 127.0.0.1 handing each accepted connection to the test."""

    def __init__(self, port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(8)
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self._accepted: queue.Queue[socket.socket] = queue.Queue()
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._open.append(conn)
            self._accepted.put(conn)

    def connection(self, timeout_s: float = 20.0) -> socket.socket:
        """The next client's connection; fails the test if none comes within ``timeout_s``."""
        try:
            return self._accepted.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no client connected within {timeout_s} s") from None

    def close(self) -> None:
        """Stop listening and close every connection."""
        self._stop.set()
        self._thread.join(timeout=10)
        self._sock.close()
        for c in self._open:
            c.close()

    def __enter__(self) -> FeedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def send_lines(conn: socket.socket, lines: list[str]) -> None:
    """Write lines as dump1090 does (CRLF ends)."""
    conn.sendall("".join(line + "\r\n" for line in lines).encode("ascii"))


def wait_for(what: str, check: object, timeout_s: float = 20.0) -> None:
    """Poll ``check()`` until it is true; fail naming ``what`` after ``timeout_s``."""
    assert callable(check)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
