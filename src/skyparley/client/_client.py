"""The synchronous HTTP client of the service (httpx)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from skyparley.client._errors import ClientError
from skyparley.domain.hotline import MessageContent
from skyparley.domain.ledger.entry import JSONValue
from skyparley.domain.ledger.keys import SigningKey
from skyparley.domain.notices import OperationNotice, ProtectedArea
from skyparley.domain.statements import (
    ack_body,
    area_body,
    message_body,
    notice_body,
    sign_statement,
)
from skyparley.errors import InputError

__all__ = ["Client"]

PREV_RETRIES = 5
"""How many times a signed write is signed again when the party's chain moved on."""


def _seg(text: str) -> str:
    """One path segment, escaped."""
    return quote(text, safe="")


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be sent as a bearer token (None when it can). The words never
    quote the token: it is a secret."""
    if not token:
        return "the token is empty"
    if token != token.strip():
        return (
            "the token starts or ends with a space or a line break: remove it "
            "(the token is not shown)"
        )
    if not all("!" <= c <= "~" for c in token):
        return (
            "the token holds a space, a control or a non-ASCII character: it must be the "
            "text `skyparley tokens new` printed (the token is not shown)"
        )
    return None


def _check_id(value: str, field: str) -> str:
    """``value`` as an id in a path: a blank one would name another route."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(field=field, reason="must be a non-empty id")
    return value


_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:]*):[^/@]*@")


def _shown_url(url: str) -> str:
    """``url`` for a message: a password in it (``user:password@host``) is masked."""
    return _PASSWORD.sub(r"\1:***@", url)


class Client:
    """A party's connection to the service at ``url`` with an API ``token``.

    ``key`` signs every write as the token's party (the key's name is the party id); without
    it writes are service-attested. ``party`` is checked against the token's party when
    given. ``clock`` gives the client time written into signed statements (POSIX seconds).
    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        key: SigningKey | None = None,
        party: str | None = None,
        timeout_s: float = 30,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        problem = token_problem(token) if isinstance(token, str) else "must be text"
        if problem is not None:
            raise InputError(field="token", reason=problem)
        self.url = url.rstrip("/")
        self._shown = _shown_url(self.url)
        self.key = key
        self._party = party
        self._clock = clock
        self._others: list[str] | None = None
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout_s,
            transport=transport,
        )

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def signing(self) -> bool:
        """Whether writes are signed by the party (False: service-attested)."""
        return self.key is not None

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            r = self._http.request(method, path, json=json, params=params)
        except httpx.TimeoutException as exc:
            raise ClientError(
                0, "timeout", "url", f"{self._shown} did not answer in time ({exc})"
            ) from None
        except httpx.LocalProtocolError:
            # httpx's words quote the header at fault, which may be the Authorization one:
            # a secret never goes into an error text
            raise ClientError(
                0,
                "invalid_request",
                None,
                f"{method} {path}: the request could not be sent (a header is not valid "
                "HTTP; its value is not shown)",
            ) from None
        except httpx.TransportError as exc:
            raise ClientError(
                0,
                "unreachable",
                "url",
                f"cannot reach {self._shown}: {exc or type(exc).__name__}",
            ) from None
        if r.status_code >= 400:
            raise _error_of(r)
        if r.status_code >= 300:
            where = r.headers.get("location") or "elsewhere"
            raise ClientError(
                r.status_code,
                "redirect",
                "url",
                f"{method} {path} was redirected to {where}: give the service's own URL",
            )
        if not r.content:
            return None
        try:
            return r.json()
        except ValueError:
            raise ClientError(
                r.status_code, "malformed", None, f"{method} {path} answered with non-JSON"
            ) from None

    def _head(self) -> dict[str, Any]:
        head: dict[str, Any] = self._request("GET", "/v1/ledger/head")
        if self._party is not None and head.get("party") != self._party:
            raise InputError(
                field="party",
                reason=f"the token is {head.get('party')!r}'s, not {self._party!r}'s",
            )
        return head

    def _signed_write(
        self,
        method: str,
        path: str,
        payload: dict[str, Any],
        kind: str,
        body: Callable[[], dict[str, JSONValue]] | dict[str, JSONValue] | None,
    ) -> Any:
        """Send ``payload``; with a key, add the signature of ``kind``/``body`` and sign
        again (same idempotency key) when another request of the party got in first."""
        if self.key is None or body is None:
            return self._request(method, path, json=payload)
        idem = uuid.uuid4().hex
        for attempt in range(PREV_RETRIES + 1):
            head = self._head()
            statement = body() if callable(body) else body
            if self.key.name != head["party"]:
                raise InputError(
                    field="key",
                    reason=f"the key is named {self.key.name!r}; the token is "
                    f"{head['party']!r}'s (a party signs with its own key)",
                )
            envelope, _ = sign_statement(
                self.key,
                log_id=head["log_id"],
                party=head["party"],
                kind=kind,
                body=statement,
                prev=head["prev"],
                idem=idem,
                now_s=self._clock(),
            )
            try:
                return self._request(
                    method, path, json={**payload, "signature": envelope.to_dict()}
                )
            except ClientError as exc:
                if exc.status == 409 and exc.field == "signature.prev" and attempt < PREV_RETRIES:
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _other_parties(self) -> list[str]:
        if self._others is None:
            proto = self.protocol()
            me = self._head()["party"]
            self._others = sorted(p["id"] for p in proto["parties"] if p["id"] != me)
        return self._others

    # ------------------------------------------------------------------ protocol

    def health(self) -> dict[str, Any]:
        """``GET /v1/health``: liveness, the protocol served, the log's size."""
        out: dict[str, Any] = self._request("GET", "/v1/health")
        return out

    def protocol(self) -> dict[str, Any]:
        """The protocol in force: parties, message rules, escalation ladder, sharing."""
        out: dict[str, Any] = self._request("GET", "/v1/protocol")
        return out

    def zones(self) -> list[dict[str, Any]]:
        """The protocol's zones and lines with their rules."""
        out: list[dict[str, Any]] = self._request("GET", "/v1/zones")
        return out

    def head(self) -> dict[str, Any]:
        """The log id and the party's chain head (what its next signed statement names)."""
        return self._head()

    # ------------------------------------------------------------------ notices

    def file_notice(self, notice: Mapping[str, Any]) -> dict[str, Any]:
        """File a notice version: version 1 is a new notice, a later one a new version.
        Returns the stored notice with ``findings`` for the filer and ``clear``."""
        data = dict(notice)
        version = data.get("version")
        nid = data.get("id")
        if not isinstance(nid, str) or not nid:
            raise InputError(field="notice.id", reason="must be a non-empty text")

        def body() -> dict[str, JSONValue]:
            parsed = OperationNotice.from_dict(data, field="notice")
            return notice_body(parsed, self._other_parties())

        if self.key is not None:
            body()  # a bad notice is refused here, before any request, naming the field
        if version == 1:
            out = self._signed_write("POST", "/v1/notices", {"notice": data}, "notice", body)
        else:
            out = self._signed_write(
                "PUT", f"/v1/notices/{_seg(nid)}", {"notice": data}, "notice", body
            )
        result: dict[str, Any] = out
        return result

    def cancel_notice(self, notice_id: str) -> dict[str, Any]:
        """Cancel a notice: its latest version again, cancelled, as the next version."""
        _check_id(notice_id, "notice_id")

        def body() -> dict[str, JSONValue]:
            latest = self.notice(notice_id)["notice"]
            cancelled = OperationNotice.from_dict(latest, field="notice").cancelled()
            return notice_body(cancelled, self._other_parties())

        out: dict[str, Any] = self._signed_write(
            "POST", f"/v1/notices/{_seg(notice_id)}/cancel", {}, "notice", body
        )
        return out

    def notices(self, live: bool = False, party: str | None = None) -> list[dict[str, Any]]:
        """The party's notices (latest versions; ``live``: planned and active only)."""
        params: dict[str, Any] = {"live": "true" if live else "false"}
        if party is not None:
            params["party"] = party
        out: list[dict[str, Any]] = self._request("GET", "/v1/notices", params=params)
        return out

    def notice(self, notice_id: str, version: int | None = None) -> dict[str, Any]:
        """One of the party's notices with its current findings and its versions."""
        _check_id(notice_id, "notice_id")
        params = None if version is None else {"version": version}
        out: dict[str, Any] = self._request("GET", f"/v1/notices/{_seg(notice_id)}", params=params)
        return out

    def findings(self, all: bool = False) -> list[dict[str, Any]]:  # noqa: A002 (the API's word)
        """Findings addressed to the party: current ones, or every one with ``all``."""
        out: list[dict[str, Any]] = self._request(
            "GET", "/v1/findings", params={"all": "true" if all else "false"}
        )
        return out

    # ------------------------------------------------------------------ protected areas

    def declare_area(self, area: Mapping[str, Any]) -> dict[str, Any]:
        """Declare (a version of) a protected area; returns it with any findings."""
        data = dict(area)

        def body() -> dict[str, JSONValue]:
            return area_body(ProtectedArea.from_dict(data, field="area"))

        if self.key is not None:
            body()
        out: dict[str, Any] = self._signed_write(
            "POST", "/v1/protected-areas", {"area": data}, "protected_area", body
        )
        return out

    def areas(self) -> list[dict[str, Any]]:
        """The party's protected areas, and other parties' public ones."""
        out: list[dict[str, Any]] = self._request("GET", "/v1/protected-areas")
        return out

    # ------------------------------------------------------------------ hotline

    def send(
        self,
        kind: str,
        to: Sequence[str],
        content: Mapping[str, Any],
        reply_to: str | None = None,
        about: str | None = None,
    ) -> dict[str, Any]:
        """Send a hotline message: ``content`` is ``{"template", "args"}`` or
        ``{"text", "lang"}``; ``reply_to`` is the id of the message answered."""
        if isinstance(to, str):
            to = [to]
        if reply_to is not None:
            _check_id(reply_to, "reply_to")
        payload: dict[str, Any] = {"kind": kind, "to": list(to), "content": dict(content)}
        if reply_to is not None:
            payload["reply_to"] = reply_to
        if about is not None:
            payload["about"] = about
        parent_hash: list[str] = []

        def body() -> dict[str, JSONValue]:
            parsed = MessageContent.from_dict(dict(content), field="content")
            if reply_to is not None and not parent_hash:
                parent_hash.append(self.message(reply_to)["entry_hash"])
            return message_body(
                sorted(set(to)),
                parsed,
                reply_to=parent_hash[0] if parent_hash else None,
                about=about,
            )

        if self.key is not None:
            MessageContent.from_dict(dict(content), field="content")
        out: dict[str, Any] = self._signed_write("POST", "/v1/messages", payload, kind, body)
        return out

    def inbox(self, after: int = 0, limit: int = 100, box: str = "inbox") -> dict[str, Any]:
        """Messages after cursor ``after``: ``{"messages": [...], "cursor": N}``; pass the
        cursor back as ``after`` to read on. ``box="sent"`` reads the sent box."""
        out: dict[str, Any] = self._request(
            "GET", "/v1/messages", params={"after": after, "limit": limit, "box": box}
        )
        return out

    def message(self, message_id: str) -> dict[str, Any]:
        """One message the party sent or received, with its acks and escalations."""
        _check_id(message_id, "message_id")
        out: dict[str, Any] = self._request("GET", f"/v1/messages/{_seg(message_id)}")
        return out

    def ack(self, message_id: str) -> dict[str, Any]:
        """Acknowledge a message addressed to the party."""
        _check_id(message_id, "message_id")
        target: list[str] = []

        def body() -> dict[str, JSONValue]:
            if not target:
                target.append(self.message(message_id)["entry_hash"])
            return ack_body(target[0])

        out: dict[str, Any] = self._signed_write(
            "POST", f"/v1/messages/{_seg(message_id)}/ack", {}, "ack", body
        )
        return out

    def thread(self, thread_id: str) -> list[dict[str, Any]]:
        """The messages of a thread the party may see."""
        _check_id(thread_id, "thread_id")
        out: list[dict[str, Any]] = self._request("GET", f"/v1/threads/{_seg(thread_id)}")
        return out

    def events(self, after: int = 0, limit: int = 500) -> dict[str, Any]:
        """The party's stream after cursor ``after``: ``{"events": [...], "cursor": N}``."""
        out: dict[str, Any] = self._request(
            "GET", "/v1/events", params={"after": after, "limit": limit}
        )
        return out

    # ------------------------------------------------------------------ live

    def push_tracks(self, columns: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/tracks``: up to 10,000 states of the party's aircraft as columns
        (``time`` in epoch seconds, ``id``, ``lat_deg``, ``lon_deg``, ``alt_ft``, ``gs_kt``,
        ``trk_deg``, ``vs_fpm``). Returns ``{"accepted", "reordered", "rejected", "errors"}``:
        rows that fail a check are counted by reason, never fail the request."""
        out: dict[str, Any] = self._request("POST", "/v1/tracks", json={"states": dict(columns)})
        return out

    # ------------------------------------------------------------------ ledger

    def receipt(self, index: int) -> dict[str, Any]:
        """The receipt of a leaf: ``{"receipt", "leaf", "logged"}``."""
        out: dict[str, Any] = self._request("GET", f"/v1/ledger/receipts/{int(index)}")
        return out

    def checkpoint(self, size: int | None = None) -> dict[str, Any]:
        """The signed checkpoint (the latest, or at ``size``): ``{"size", "checkpoint"}``."""
        params = None if size is None else {"size": size}
        out: dict[str, Any] = self._request("GET", "/v1/ledger/checkpoint", params=params)
        return out

    def cosign(self, size: int, cosignature: str) -> dict[str, Any]:
        """Store the party's cosignature line of the checkpoint at ``size``."""
        out: dict[str, Any] = self._request(
            "POST", "/v1/ledger/cosign", json={"size": size, "cosignature": cosignature}
        )
        return out


def _error_of(r: httpx.Response) -> ClientError:
    try:
        err = r.json()["error"]
        return ClientError(
            r.status_code,
            str(err.get("code") or "error"),
            err.get("field"),
            str(err.get("reason") or r.reason_phrase),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        text = " ".join(r.text.split())[:200] or r.reason_phrase
        return ClientError(r.status_code, "http", None, text)
