"""The HTTP and WebSocket API: :func:`create_app` is the composition root.

``create_app(settings)`` opens the store and the ledger (one SQLite file), loads the message
catalogs, builds the :class:`~skyparley.service.Service` and returns the FastAPI app. Its
lifespan runs the escalation ticker and closes everything on shutdown. Paths are versioned
under ``/v1/``; ``/openapi.json`` describes them.

Errors are JSON, always ``{"error": {"code", "field", "reason"}}``:

====  ==============  ===========================================================
HTTP  code            when
====  ==============  ===========================================================
400   malformed       the body is not JSON
401   unauthorized    no token, or an unknown or revoked one
403   forbidden       the token's role or party may not do this
404   not_found       no such object, or not one the caller may know of
409   conflict        a version or an id is taken, the party's chain moved on
413   too_large       the body is over the limit
422   invalid         a field is wrong (named in ``field``)
500   internal        a fault of the service (logged; never a traceback to the caller)
====  ==============  ===========================================================
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import json
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, FastAPI, Query, Request, WebSocket, WebSocketDisconnect
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from skyparley.adapters.catalogs import Catalogs
from skyparley.adapters.clock import SystemClock
from skyparley.adapters.ledger_store import SqliteLedger
from skyparley.adapters.sbs import SbsEndpoint, SbsSource
from skyparley.adapters.store_memory import MemoryStore
from skyparley.adapters.store_sqlite import SqliteStore
from skyparley.api.models import (
    INT64_MAX,
    AckIn,
    AreaIn,
    CancelIn,
    CosignIn,
    MessageIn,
    NoticeIn,
    SignatureIn,
    TokenIn,
    TracksIn,
    content_dict,
    error_responses,
)
from skyparley.api.reports import render_incident_report
from skyparley.domain.ledger.checkpoint import Checkpoint
from skyparley.domain.ledger.entry import KeyRing
from skyparley.domain.ledger.keys import SigningKey
from skyparley.domain.live import IngestResult
from skyparley.domain.notices import FORBIDDEN_FIELDS
from skyparley.domain.ports import Clock, Store
from skyparley.domain.protocol import Protocol
from skyparley.domain.records import Changes, Event
from skyparley.domain.statements import Signature
from skyparley.domain.times import format_time
from skyparley.errors import (
    AuthError,
    ConflictError,
    InputError,
    LedgerError,
    LedgerInputError,
    NotFoundError,
    PermissionDeniedError,
    SkyparleyError,
    VerificationError,
)
from skyparley.service import Principal, Service, authenticate, new_token, require
from skyparley.service.live import LiveService, LiveSettings
from skyparley.web import mount_console

__all__ = ["DEFAULT_MAX_BODY_BYTES", "Settings", "create_app"]

log = logging.getLogger("skyparley.api")

DEFAULT_MAX_BODY_BYTES = 1_048_576
"""Largest request body accepted (1 MiB): a notice of 64 volumes of 1000 vertices fits."""


@dataclass(frozen=True)
class Settings:
    """What the service runs with.

    ``db_path`` is the one SQLite file (store and ledger); ``None`` keeps the store in
    memory and the ledger in a temporary file (for tests of the layers above).
    ``origin`` names the log (default ``skyparley/<protocol id>``). ``tick_s`` is how often
    deadlines are checked for escalation and the live picture for a tick due (its own pace
    is ``live.step_s``). ``sources``: SBS/BaseStation feeds read while the app runs, their
    states ingested as their mapped parties' (``app.state.sources`` holds the readers).
    """

    protocol: Protocol
    db_path: Path | None
    service_key: SigningKey
    origin: str | None = None
    clock: Clock = field(default_factory=SystemClock)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_tracks_body_bytes: int = 8 * DEFAULT_MAX_BODY_BYTES
    tick_s: float = 0.05
    live: LiveSettings = field(default_factory=LiveSettings)
    sources: tuple[SbsEndpoint, ...] = ()


def _error(status: int, code: str, field: str | None, reason: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "field": field, "reason": reason}},
        status_code=status,
        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
    )


class _LimitsAndMetrics:
    """The body limits and the request metrics, as plain ASGI middleware.

    ``@app.middleware("http")`` (Starlette's ``BaseHTTPMiddleware``) runs every request in an
    anyio task group with memory streams between the two halves; this does the same checks
    on the scope and wraps ``receive``/``send`` only, at a fraction of the cost per request.
    A body over the limit is refused from its ``content-length`` before it is read; one sent
    without it (chunked) is read up to the limit, refused once over it (see
    :func:`_read_within`), else handed on as read (after it, ``receive`` is the server's
    again: a disconnect is still seen). Each
    answered request is counted by method, route and status, and timed by route.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_tracks_body_bytes: int,
        requests: Counter,
        latency: Histogram,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_tracks_body_bytes = max_tracks_body_bytes
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        request = Request(scope, receive)
        kind = request.headers.get("content-type")
        if kind is not None and request.method in ("POST", "PUT", "PATCH") and not _is_json(kind):
            reason = f"is {kind[:80]!r}; send the body as application/json"
            await _error(415, "unsupported_media_type", "content-type", reason)(
                scope, receive, send
            )
            return
        length = request.headers.get("content-length")
        limit = (
            self.max_tracks_body_bytes if request.url.path == "/v1/tracks" else self.max_body_bytes
        )
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                await _error(400, "malformed", "content-length", "is not a number")(
                    scope, receive, send
                )
                return
            if too_big:
                reason = f"is {length} bytes; at most {limit}"
                await _error(413, "too_large", "body", reason)(scope, receive, send)
                return
        elif request.method in ("POST", "PUT", "PATCH"):
            body = await _read_within(request, limit)
            if body is None:
                reason = f"is over {limit} bytes"
                await _error(413, "too_large", "body", reason)(scope, receive, send)
                return
            receive = _replay(body, receive)
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, send_status)
        route = scope.get("route")
        path = getattr(route, "path", "unmatched")
        self.requests.labels(request.method, path, str(status)).inc()
        self.latency.labels(path).observe(time.perf_counter() - t0)


def _is_json(content_type: str) -> bool:
    """Whether a ``content-type`` is JSON as FastAPI reads it: ``application/json`` or
    ``application/<something>+json``, parameters aside."""
    main = content_type.partition(";")[0].strip().lower()
    return main == "application/json" or (
        main.startswith("application/") and main.endswith("+json")
    )


_DRAIN_FACTOR = 4
"""A chunked body over its limit is read on, and dropped, up to this many times the limit,
so that a client still sending gets the 413 rather than a reset connection; past that, the
413 goes out at once (the server then closes the connection)."""


async def _read_within(request: Request, limit: int) -> bytes | None:
    """A body sent without ``content-length``: its bytes, or None once it is over ``limit``.

    Nothing past the limit is kept, so an endless body costs ``limit`` bytes of memory, not
    more (see :data:`_DRAIN_FACTOR` for how long it is read on).
    """
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            chunks.clear()
            if size > _DRAIN_FACTOR * limit:
                return None
        elif chunk:
            chunks.append(chunk)
    return None if size > limit else b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` (read already) first, then asks ``receive``."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _signature(sig: SignatureIn | None) -> Signature | None:
    if sig is None:
        return None
    return Signature(
        client_time=sig.client_time, prev=sig.prev, idem=sig.idem, kid=sig.kid, sig=sig.sig
    )


_M = TypeVar("_M", bound=BaseModel)


async def _read_body(request: Request, model: type[_M]) -> _M:
    """The request's JSON body as ``model``, parsed and checked in one pass by pydantic.

    The filing endpoints read their body this way rather than through a FastAPI body
    parameter, which reads the JSON into Python objects first and validates them after
    (about 0.25 ms more of the server's time per filing, measured). Errors are
    FastAPI's, located under ``body`` as its own are, so the same handler answers them
    (no body: the body is missing; bad JSON: 400; the rest: 422 naming the field).
    """
    raw = await request.body()
    if not raw:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


def _body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI of a body read with :func:`_read_body` (``model`` must have its schema among
    the components: another route takes it as a body parameter)."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def _answer_doc(status: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI of the answers of a route that reads its body with :func:`_read_body` and
    answers with :func:`_json`: what FastAPI writes for a ``dict`` body parameter route."""
    answer = {"type": "object", "additionalProperties": True}
    return {status: {"content": {"application/json": {"schema": answer}}}}


def _json(out: object, status_code: int = 200) -> Response:
    """``out`` as a JSON response written by orjson, without FastAPI's response validation
    (the use cases return plain JSON values; validating them again as ``dict[str, Any]``
    cost about 0.15 ms per filing, measured)."""
    return Response(orjson.dumps(out), status_code=status_code, media_type="application/json")


def _errors_in_json(app: FastAPI) -> None:
    """Make the OpenAPI say that every 4xx answer is JSON: FastAPI files an error model
    under a route's own media type too (``text/plain`` for the metrics, ``text/html`` for a
    report), though a refusal is always JSON."""
    made = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = made()
            for ops in schema.get("paths", {}).values():
                for op in ops.values():
                    for status, answer in op.get("responses", {}).items():
                        content = answer.get("content", {})
                        if status.startswith("4") and "application/json" in content:
                            answer["content"] = {"application/json": content["application/json"]}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _invalid_reason(error: Any, loc: tuple[Any, ...]) -> str:
    """pydantic's message, except for a member skyparley never stores (``target``,
    ``weapon``...), which gets the reason the notice reader gives it."""
    if error.get("type") == "extra_forbidden" and loc and loc[-1] in FORBIDDEN_FIELDS:
        parent = str(loc[-2]) if len(loc) >= 2 else ""
        what = {
            "notice": "an operation notice",
            "area": "a protected area",
            "volume": "a volume",
        }.get(parent, "a volume" if "volumes" in loc else "this object")
        return f"is not a field of {what}: skyparley never stores targets, weapons or purposes"
    return str(error.get("msg"))


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


class _Runtime:
    """What the app holds open: the store, the ledger, the service."""

    def __init__(self, settings: Settings) -> None:
        protocol = settings.protocol
        origin = settings.origin or f"skyparley/{protocol.id}"
        ring = dict(protocol.keyring())
        ring[settings.service_key.name] = settings.service_key.verifier
        self._tmp: Any = None
        self.sources: list[SbsSource] = []
        """The SBS feeds read while the app runs (set by ``create_app``)."""
        if settings.db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="skyparley-")
            ledger_path = Path(self._tmp.name) / "ledger.db"
            store: Store = MemoryStore()
        else:
            ledger_path = settings.db_path
            store = SqliteStore(settings.db_path)
        try:
            self.ledger = SqliteLedger(
                ledger_path,
                service_key=settings.service_key,
                origin=origin,
                keyring=KeyRing(ring),
                clock=settings.clock,
                protocol_hash=protocol.content_hash,
            )
        except BaseException:
            store.close()
            raise
        self.store = store
        self.catalogs = Catalogs()
        self.service = Service(
            protocol=protocol,
            store=store,
            ledger=self.ledger,
            service_key=settings.service_key,
            clock=settings.clock,
            renderer=self.catalogs,
        )
        self.live = LiveService(self.service, settings.live)
        took_s = self.live.warm_up()
        if took_s > 2.0:  # the first start on a machine compiles the kernels
            log.info("detection kernels compiled and loaded in %.1f s", took_s)

    def close(self) -> None:
        self.ledger.close()
        self.store.close()
        if self._tmp is not None:
            self._tmp.cleanup()


class _ServiceCollector:
    """Prometheus gauges read from the service when scraped."""

    def __init__(self, rt: _Runtime) -> None:
        self._rt = rt

    def collect(self) -> Any:
        svc = self._rt.service
        for name, value in svc.counters.items():
            g = GaugeMetricFamily(
                f"skyparley_{name}_total", f"{name.replace('_', ' ')} since start"
            )
            g.add_metric([], value)
            yield g
        g = GaugeMetricFamily("skyparley_stream_subscribers", "live WebSocket streams")
        g.add_metric([], svc.hub.count())
        yield g
        g = GaugeMetricFamily("skyparley_ledger_size", "leaves in the signed log")
        g.add_metric([], self._rt.ledger.size())
        yield g
        writers = [self._rt.ledger.checkpointer]
        if isinstance(self._rt.store, SqliteStore):
            writers.append(self._rt.store.checkpointer)
        g = GaugeMetricFamily(
            "skyparley_sqlite_wal_bytes", "size of the database file's write-ahead log"
        )
        g.add_metric([], writers[0].wal_bytes())
        yield g
        g = GaugeMetricFamily(
            "skyparley_wal_checkpoint_failures_total", "WAL checkpoints that failed since start"
        )
        g.add_metric([], sum(w.failures for w in writers))
        yield g
        nxt = svc.next_deadline_s()
        g = GaugeMetricFamily("skyparley_next_deadline_seconds", "POSIX time of the next deadline")
        g.add_metric([], nxt if nxt is not None else 0.0)
        yield g
        live = self._rt.live
        for name, value in sorted(live.stats.items()):
            g = GaugeMetricFamily(f"skyparley_live_{name}_total", f"live {name.replace('_', ' ')}")
            g.add_metric([], value)
            yield g
        g = GaugeMetricFamily("skyparley_live_aircraft", "aircraft in the live table")
        g.add_metric([], len(live.table))
        yield g
        recent = live.tick_ms[-100:]
        g = GaugeMetricFamily("skyparley_live_tick_ms_max", "slowest of the last 100 ticks (ms)")
        g.add_metric([], max(recent) if recent else 0.0)
        yield g
        yield from _feed_metrics([s.stats() for s in self._rt.sources])


def _feed_metrics(feeds: list[dict[str, Any]]) -> Iterator[GaugeMetricFamily]:
    """Each SBS feed's counters, by its name (``host:port``): a feed that only sends lines
    the service cannot use shows as such (bad lines by reason, states dropped by reason)."""
    if not feeds:
        return
    connected = GaugeMetricFamily(
        "skyparley_sbs_connected", "1 while the feed is connected", labels=["feed"]
    )
    lines = GaugeMetricFamily("skyparley_sbs_lines_total", "lines read", labels=["feed"])
    states = GaugeMetricFamily("skyparley_sbs_states_total", "states assembled", labels=["feed"])
    connects = GaugeMetricFamily("skyparley_sbs_connects_total", "connections", labels=["feed"])
    bad = GaugeMetricFamily(
        "skyparley_sbs_bad_lines_total", "lines that could not be used", labels=["feed", "reason"]
    )
    dropped = GaugeMetricFamily(
        "skyparley_sbs_dropped_states_total",
        "states not handed on (unmapped: no party for the aircraft)",
        labels=["feed", "reason"],
    )
    for st in feeds:
        feed = str(st["source"])
        connected.add_metric([feed], 1.0 if st["connected"] else 0.0)
        lines.add_metric([feed], st["lines"])
        states.add_metric([feed], st["states"])
        connects.add_metric([feed], st.get("connects", 0))
        for reason, n in st["bad"].items():
            bad.add_metric([feed, reason], n)
        for reason, n in st["dropped"].items():
            dropped.add_metric([feed, reason], n)
    yield from (connected, lines, states, connects, bad, dropped)


_bearer = HTTPBearer(auto_error=False)


async def _principal(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, found in the event loop's thread: a token is one indexed read of the
    store (tens of microseconds), less than the hop to a worker thread and back that a
    plain function dependency costs on every request."""
    rt: _Runtime = request.app.state.runtime
    return authenticate(rt.store, creds.credentials if creds is not None else None)


Who = Annotated[Principal, Depends(_principal)]
"""The authenticated caller of an endpoint."""


def settle_heap() -> None:
    """For a process that serves one app: call once the app is built. Collects, then moves
    every object alive now (the loaded notices, their index, the ledger state) out of the
    garbage collector's generations (``gc.freeze``), so that a full collection no longer
    walks them: at 10,000 active notices such a walk stalled a request for a few hundred
    milliseconds. Objects made later are collected as usual.
    """
    gc.collect()
    gc.freeze()


def create_app(settings: Settings) -> FastAPI:
    """The FastAPI app of the service (see the module)."""
    state: dict[str, _Runtime] = {}
    registry = CollectorRegistry()
    requests = Counter(
        "skyparley_http_requests",
        "HTTP requests",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "skyparley_http_request_seconds",
        "HTTP request latency",
        ["route"],
        registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    )
    rt = _Runtime(settings)
    state["rt"] = rt
    registry.register(_ServiceCollector(rt))
    escalations_failed = Gauge(
        "skyparley_escalation_tick_failures", "ticks that failed", registry=registry
    )

    async def ticker() -> None:
        wake = asyncio.Event()
        loop = asyncio.get_running_loop()

        def woken() -> None:
            loop.call_soon_threadsafe(wake.set)

        rt.live.on_new_states = woken
        while True:
            with contextlib.suppress(TimeoutError):  # new states wake it at once
                await asyncio.wait_for(wake.wait(), timeout=settings.tick_s)
            wake.clear()
            try:
                if rt.live.due():
                    await run_in_threadpool(rt.live.tick)
                await run_in_threadpool(rt.service.escalate_due)
            except Exception:  # the ticker must survive; the fault is logged and counted
                log.exception("tick failed")
                escalations_failed.inc()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(ticker())
        for source in sources:
            source.start()
        try:
            yield
        finally:
            for source in sources:
                await run_in_threadpool(source.stop)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            rt.close()

    app = FastAPI(
        title="skyparley",
        version="1",
        summary="Deconfliction service with receipts",
        description="Operation notices, strategic findings, a hotline that demands "
        "acknowledgement, and a signed Merkle log. Every request but /v1/health carries "
        "`Authorization: Bearer <token>`.",
        lifespan=lifespan,
        responses=error_responses(),
    )
    app.state.runtime = rt
    _errors_in_json(app)
    sources = [SbsSource(ep, _sbs_ingest(rt, ep)) for ep in settings.sources]
    app.state.sources = rt.sources = sources
    svc = rt.service

    # ------------------------------------------------------------------ errors

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid"}
        if first.get("type") == "json_invalid":
            return _error(400, "malformed", "body", "the body is not valid JSON")
        loc = tuple(first.get("loc", ()))
        return _error(422, "invalid", _loc(loc), _invalid_reason(first, loc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized",
                 403: "forbidden", 400: "malformed", 413: "too_large"}  # fmt: skip
        reason = {
            404: "no such path",
            405: "the path does not take this method",
            400: "could not be read as JSON (it may be nested too deeply)",
        }.get(exc.status_code, str(exc.detail))
        field = "body" if exc.status_code in (400, 413) else "path"  # 400: FastAPI's parse
        return _error(exc.status_code, codes.get(exc.status_code, "error"), field, reason)

    @app.exception_handler(SkyparleyError)
    async def _skyparley(_: Request, exc: SkyparleyError) -> JSONResponse:
        return _to_response(exc)

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error")
        return _error(500, "internal", None, "the service failed; the fault is logged")

    # ------------------------------------------------------------------ middleware

    app.add_middleware(
        _LimitsAndMetrics,
        max_body_bytes=settings.max_body_bytes,
        max_tracks_body_bytes=settings.max_tracks_body_bytes,
        requests=requests,
        latency=latency,
    )

    # ------------------------------------------------------------------ routes: misc

    @app.get("/v1/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness: the protocol served and the log's size. No token needed."""
        return {
            "status": "ok",
            "protocol": settings.protocol.id,
            "protocol_hash": settings.protocol.content_hash,
            "ledger_size": rt.ledger.size(),
            "time": format_time(settings.clock.now_s()),
        }

    @app.get("/v1/metrics", tags=["service"], response_class=PlainTextResponse)
    def metrics(who: Who) -> PlainTextResponse:
        """Prometheus metrics (text format 0.0.4). Needs an admin token."""
        require(who, "admin")
        return PlainTextResponse(
            generate_latest(registry).decode("utf-8"),
            media_type="text/plain; version=0.0.4; charset=utf-8",
        )

    @app.get("/v1/protocol", tags=["protocol"])
    def protocol(who: Who) -> dict[str, Any]:
        """The protocol in force: parties and keys, hotline rules, the escalation ladder."""
        return svc.protocol_view(who)

    @app.get("/v1/zones", tags=["protocol"])
    def zones(who: Who) -> list[dict[str, Any]]:
        """The protocol's zones and lines with their rules (read-only)."""
        return svc.zones(who)

    # ------------------------------------------------------------------ tokens

    @app.post("/v1/tokens", tags=["tokens"], status_code=201)
    def token_new(who: Who, body: TokenIn) -> dict[str, Any]:
        """Make a token for the admin's own party; the token text is shown only here."""
        require(who, "admin")
        token, rec = new_token(
            rt.store,
            settings.protocol,
            party=who.party,
            role=body.role,
            now_s=settings.clock.now_s(),
            label=body.label,
        )
        return {"id": rec.id, "party": rec.party, "role": rec.role, "token": token}

    @app.get("/v1/tokens", tags=["tokens"])
    def token_list(who: Who) -> list[dict[str, Any]]:
        """The tokens of the admin's party (never their text)."""
        require(who, "admin")
        return [
            {
                "id": t.id,
                "role": t.role,
                "label": t.label,
                "created": format_time(t.created_s),
                "revoked": None if t.revoked_s is None else format_time(t.revoked_s),
            }
            for t in rt.store.tokens(who.party)
        ]

    @app.delete("/v1/tokens/{token_id}", tags=["tokens"])
    def token_revoke(who: Who, token_id: str) -> dict[str, Any]:
        """Revoke a token of the admin's party; it stops working at once."""
        require(who, "admin")
        mine = {t.id: t for t in rt.store.tokens(who.party)}
        if token_id not in mine:
            raise NotFoundError(field="token_id", reason=f"{who.party} has no token {token_id!r}")
        if mine[token_id].revoked_s is None:
            rt.store.commit(Changes(revoked_tokens=[(token_id, settings.clock.now_s())]))
        return {"id": token_id, "revoked": True}

    # ------------------------------------------------------------------ notices

    @app.post("/v1/notices/check", tags=["notices"])
    def notice_check(who: Who, body: NoticeIn) -> dict[str, Any]:
        """Check a draft notice: the findings the caller would get if it filed it. Nothing
        is stored or logged, and no other party is told."""
        return svc.check_draft(who, body.notice.model_dump(exclude_none=True))

    # The two filing routes read their body with _read_body and answer with _json: the
    # hot path of the service (see docs/service.md, "Performance"). /v1/notices/check above
    # takes NoticeIn as a body parameter, which puts its schema among the components.
    async def file_notice(
        who: Principal, request: Request, *, new: bool = False, expect_id: str | None = None
    ) -> dict[str, Any]:
        body = await _read_body(request, NoticeIn)
        notice = body.notice.model_dump(exclude_none=True)
        signature = _signature(body.signature)
        return await run_in_threadpool(
            svc.file_notice, who, notice, signature, new=new, expect_id=expect_id
        )

    @app.post(
        "/v1/notices",
        tags=["notices"],
        status_code=201,
        response_model=None,
        openapi_extra=_body_doc(NoticeIn),
        responses=_answer_doc(201),
    )
    async def notice_create(who: Who, request: Request) -> Response:
        """File a new operation notice (version 1); returns its findings for the filer."""
        return _json(await file_notice(who, request, new=True), 201)

    @app.put(
        "/v1/notices/{notice_id}",
        tags=["notices"],
        response_model=None,
        openapi_extra=_body_doc(NoticeIn),
        responses=_answer_doc(200),
    )
    async def notice_version(who: Who, notice_id: str, request: Request) -> Response:
        """File a new version of a notice (``version`` = latest + 1)."""
        return _json(await file_notice(who, request, expect_id=notice_id))

    @app.post("/v1/notices/{notice_id}/cancel", tags=["notices"])
    def notice_cancel(who: Who, notice_id: str, body: CancelIn) -> dict[str, Any]:
        """Cancel a notice: files the latest version again, cancelled, as a new version."""
        return svc.cancel_notice(who, notice_id, _signature(body.signature))

    @app.get("/v1/notices", tags=["notices"])
    def notice_list(
        who: Who,
        live: bool = False,
        party: Annotated[str | None, Query(max_length=64)] = None,
    ) -> list[dict[str, Any]]:
        """The caller's notices (latest versions); ``live`` keeps planned and active ones."""
        return svc.notices(who, party=party, live_only=live)

    @app.get("/v1/notices/{notice_id}", tags=["notices"])
    def notice_get(
        who: Who, notice_id: str, version: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None
    ) -> dict[str, Any]:
        """One of the caller's notices with its current findings."""
        return svc.notice(who, notice_id, version)

    @app.get("/v1/findings", tags=["notices"])
    def findings(who: Who, all: bool = False) -> list[dict[str, Any]]:  # noqa: A002
        """Strategic findings addressed to the caller (current ones; ``all`` for history)."""
        return svc.findings(who, current_only=not all)

    # ------------------------------------------------------------------ protected areas

    @app.post("/v1/protected-areas", tags=["protected areas"], status_code=201)
    def area_declare(who: Who, body: AreaIn) -> dict[str, Any]:
        """Declare a protected area (or a new version of one)."""
        return svc.declare_area(
            who, body.area.model_dump(exclude_none=True), _signature(body.signature)
        )

    @app.get("/v1/protected-areas", tags=["protected areas"])
    def area_list(who: Who) -> list[dict[str, Any]]:
        """The caller's protected areas, and others' that are public."""
        return svc.protected_areas(who)

    # ------------------------------------------------------------------ hotline

    @app.post("/v1/messages", tags=["hotline"], status_code=201)
    def message_send(who: Who, body: MessageIn) -> dict[str, Any]:
        """Send a hotline message; its kind's acknowledgement rule comes from the protocol."""
        return svc.send(
            who,
            kind=body.kind,
            to=body.to,
            content=content_dict(body.content),
            reply_to=body.reply_to,
            about=body.about,
            signature=_signature(body.signature),
        )

    @app.get("/v1/messages", tags=["hotline"])
    def message_list(
        who: Who,
        after: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        box: Annotated[str, Query(pattern="^(inbox|sent)$")] = "inbox",
    ) -> dict[str, Any]:
        """The inbox (or sent box) after a cursor; ``cursor`` in the answer resumes it."""
        return svc.inbox(who, after=after, limit=limit, sent=box == "sent")

    @app.get("/v1/messages/{message_id}", tags=["hotline"])
    def message_get(who: Who, message_id: str) -> dict[str, Any]:
        """One message with its acknowledgements and escalations."""
        return svc.message(who, message_id)

    @app.post("/v1/messages/{message_id}/ack", tags=["hotline"])
    def message_ack(who: Who, message_id: str, body: AckIn) -> dict[str, Any]:
        """Acknowledge a message addressed to the caller's party."""
        return svc.ack(who, message_id, _signature(body.signature))

    @app.get("/v1/threads/{thread_id}", tags=["hotline"])
    def thread(who: Who, thread_id: str) -> list[dict[str, Any]]:
        """The messages of a thread the caller may see."""
        return svc.thread(who, thread_id)

    @app.get("/v1/events", tags=["stream"])
    def events(
        who: Who,
        after: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    ) -> dict[str, Any]:
        """The caller's stream as a page (the WebSocket /v1/stream pushes the same events)."""
        evs = svc.events(who, after=after, limit=limit)
        return {
            "events": [_event_json(e) for e in evs],
            "cursor": evs[-1].cursor if evs else after,
        }

    # ------------------------------------------------------------------ ledger

    @app.get("/v1/ledger/head", tags=["ledger"])
    def ledger_head(who: Who) -> dict[str, Any]:
        """The log id and the caller's chain head: what its next signed statement names."""
        return svc.head(who)

    @app.get("/v1/ledger/receipts/{index}", tags=["ledger"])
    def ledger_receipt(
        who: Who, index: Annotated[int, PathParam(ge=0, le=INT64_MAX)]
    ) -> dict[str, Any]:
        """The receipt (inclusion proof, signed checkpoint) of a leaf the caller may see."""
        return svc.receipt(who, index)

    @app.get("/v1/ledger/checkpoint", tags=["ledger"])
    def ledger_checkpoint(
        who: Who, size: Annotated[int | None, Query(ge=0, le=INT64_MAX)] = None
    ) -> dict[str, Any]:
        """The signed checkpoint (latest, or at ``size``) with its cosignatures."""
        require(who, "viewer")
        try:
            note = rt.ledger.checkpoint(size)  # one read: the log may grow after it
        except LedgerInputError:
            raise NotFoundError(
                field="size", reason=f"the log signed no checkpoint of size {size}"
            ) from None
        return {"size": Checkpoint.parse(note.text).size, "checkpoint": str(note)}

    @app.get("/v1/ledger/proofs/inclusion", tags=["ledger"])
    def ledger_inclusion(
        who: Who,
        index: Annotated[int, Query(ge=0, le=INT64_MAX)],
        size: Annotated[int, Query(ge=1, le=INT64_MAX)],
    ) -> dict[str, Any]:
        """The RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size``."""
        require(who, "viewer")
        _check_size(rt, size)
        if index >= size:
            raise InputError(field="index", reason=f"must be below size {size}")
        proof = rt.ledger.inclusion_proof(index, size)
        return {"index": index, "size": size, "proof": [_b64(h) for h in proof]}

    @app.get("/v1/ledger/proofs/consistency", tags=["ledger"])
    def ledger_consistency(
        who: Who,
        old_size: Annotated[int, Query(alias="from", ge=1, le=INT64_MAX)],
        new_size: Annotated[int, Query(alias="to", ge=1, le=INT64_MAX)],
    ) -> dict[str, Any]:
        """The RFC 9162 consistency proof between two tree sizes."""
        require(who, "viewer")
        _check_size(rt, new_size, "to")
        if old_size > new_size:
            raise InputError(field="from", reason=f"must be at most to ({new_size})")
        proof = rt.ledger.consistency_proof(old_size, new_size)
        return {"from": old_size, "to": new_size, "proof": [_b64(h) for h in proof]}

    @app.post("/v1/ledger/cosign", tags=["ledger"])
    def ledger_cosign(who: Who, body: CosignIn) -> dict[str, Any]:
        """Store the caller's cosignature of a checkpoint (verified first): the evidence that
        the party has seen the log up to that size."""
        require(who, "operator")
        try:
            stored = rt.ledger.store_cosignature(body.size, who.party, body.cosignature)
        except VerificationError as exc:
            raise InputError(field="cosignature", reason=str(exc)) from None
        except LedgerInputError as exc:
            if exc.field == "size":  # one read of the size asked for, not of them all
                raise NotFoundError(
                    field="size", reason=f"the log signed no checkpoint of size {body.size}"
                ) from None
            raise InputError(field="cosignature", reason=str(exc)) from None
        except LedgerError as exc:
            raise InputError(field="cosignature", reason=str(exc)) from None
        out: dict[str, Any] = {"size": body.size, "party": who.party, "stored": stored}
        if not stored:
            out["reason"] = (
                f"{who.party} cosigned size {body.size} before with another line: the first "
                "is the one kept"
            )
        return out

    # ------------------------------------------------------------------ live

    live = rt.live

    @app.post("/v1/tracks", tags=["live"])
    def tracks(who: Who, body: TracksIn) -> dict[str, Any]:
        """Ingest up to 10,000 states of the caller's party's aircraft (columns). Rows that
        fail a check are counted by reason and reported, never stop the batch."""
        return live.ingest(who, body.states.model_dump(exclude_none=True)).to_dict()

    @app.websocket("/v1/tracks/stream")
    async def tracks_stream(websocket: WebSocket) -> None:
        """Ingest over a WebSocket: each text message is ``{"states": {...}}`` as for
        ``POST /v1/tracks``; each is answered with its ingest result (or an error)."""
        token = websocket.query_params.get("token")
        header = websocket.headers.get("authorization", "")
        if not token and header.lower().startswith("bearer "):
            token = header[7:].strip()
        await websocket.accept()  # then refuse with a close code the client can read
        try:
            who = await run_in_threadpool(authenticate, rt.store, token)
            require(who, "operator")
        except (AuthError, PermissionDeniedError) as exc:
            await websocket.close(
                code=4401 if isinstance(exc, AuthError) else 4403, reason=exc.reason[:120]
            )
            return

        checked = [time.monotonic()]

        def ingest(who: Principal, states: dict[str, Any]) -> IngestResult:
            # a token revoked meanwhile ends the stream (looked up once a second at most:
            # a feed may send many frames a second)
            if time.monotonic() - checked[0] >= 1.0:
                authenticate(rt.store, token)
                checked[0] = time.monotonic()
            return live.ingest(who, states)

        try:
            while True:
                frame = await websocket.receive()
                if frame["type"] == "websocket.disconnect":
                    break
                text = frame.get("text")
                if text is None:  # a binary frame: answered, the socket stays open
                    reason = "must be a text frame holding {'states': ...} as JSON"
                    error = {"code": "invalid", "field": "message", "reason": reason}
                    await websocket.send_text(json.dumps({"error": error}))
                    continue
                try:
                    msg = TracksIn.model_validate_json(text)
                    result = await run_in_threadpool(
                        ingest, who, msg.states.model_dump(exclude_none=True)
                    )
                    await websocket.send_text(json.dumps(result.to_dict()))
                except ValidationError as exc:
                    first = exc.errors()[0]
                    await websocket.send_text(
                        json.dumps(
                            {
                                "error": {
                                    "code": "invalid",
                                    "field": _loc(tuple(first.get("loc", ()))),
                                    "reason": str(first.get("msg")),
                                }
                            }
                        )
                    )
                except InputError as exc:
                    await websocket.send_text(
                        json.dumps(
                            {"error": {"code": "invalid", "field": exc.field, "reason": exc.reason}}
                        )
                    )
        except AuthError as exc:
            await websocket.close(code=4401, reason=exc.reason[:120])
        except (WebSocketDisconnect, RuntimeError):
            pass

    @app.get("/v1/picture", tags=["live"])
    def picture(who: Who) -> dict[str, Any]:
        """The live picture as the caller may see it: its own aircraft, others' as the
        sharing policy allows, and the intruders of its alerts."""
        return live.picture(who)

    @app.get("/v1/alerts", tags=["live"])
    def alerts(who: Who) -> list[dict[str, Any]]:
        """The tactical alerts that are on for the caller's party."""
        return live.alerts(who)

    @app.get("/v1/incidents", tags=["live"])
    def incidents(who: Who) -> list[dict[str, Any]]:
        """Incidents (losses of separation, protected-area intrusions) of the caller's party."""
        return live.incidents(who)

    @app.get("/v1/incidents/{incident_id}", tags=["live"])
    def incident(who: Who, incident_id: str) -> dict[str, Any]:
        """One incident with its evidence."""
        return live.incident_view(who, incident_id)

    @app.get("/v1/incidents/{incident_id}/report", tags=["live"], response_class=HTMLResponse)
    def incident_report(who: Who, incident_id: str) -> HTMLResponse:
        """The incident's report in the reader's language: map, vertical profile and
        separation over time."""
        view = live.incident_view(who, incident_id)
        lang = rt.service._lang(who.party)
        return HTMLResponse(render_incident_report(view, lang, rt.catalogs))

    # ------------------------------------------------------------------ stream

    @app.websocket("/v1/stream")
    async def stream(websocket: WebSocket) -> None:
        """The caller's events, live: findings, messages, acks, escalations.

        Authenticate with ``Authorization: Bearer`` or ``?token=``; ``?cursor=N`` resumes
        after event N (every event carries its ``cursor``): no gap, no duplicate.
        """
        token = websocket.query_params.get("token")
        header = websocket.headers.get("authorization", "")
        if not token and header.lower().startswith("bearer "):
            token = header[7:].strip()
        # Accept first, then refuse with a close code the client can read (a close before
        # the accept is only an HTTP 403 at the handshake).
        await websocket.accept()
        try:
            who = await run_in_threadpool(authenticate, rt.store, token)
        except AuthError as exc:
            await websocket.close(code=4401, reason=exc.reason[:120])
            return
        after = _cursor(websocket.query_params.get("cursor", "0"))
        if after is None:
            await websocket.close(
                code=4422, reason=f"cursor: must be a whole number from 0 to {_MAX_CURSOR}"
            )
            return

        def read(after: int) -> list[Event]:
            authenticate(rt.store, token)  # a token revoked meanwhile ends the stream
            return svc.events(who, after=after, limit=500)

        sub = svc.hub.subscribe(who.party, asyncio.get_running_loop())
        gone: asyncio.Future[None] | None = None
        try:
            last = after
            while True:  # the backlog, page by page, from the store
                page = await run_in_threadpool(read, last)
                for e in page:
                    await websocket.send_text(json.dumps(_event_json(e)))
                    last = e.cursor
                if len(page) < 500:
                    break
            gone = asyncio.ensure_future(_until_closed(websocket))
            while True:  # then live: each wake-up reads what is new from the store
                waiter = asyncio.ensure_future(sub.queue.get())
                await asyncio.wait({waiter, gone}, return_when=asyncio.FIRST_COMPLETED)
                if not waiter.done():  # the client left: stop at once, not at the next event
                    waiter.cancel()
                    break
                e = waiter.result()
                newest = e.cursor
                while not sub.queue.empty():
                    newest = max(newest, sub.queue.get_nowait().cursor)
                while newest > last:
                    page = await run_in_threadpool(read, last)
                    if not page:
                        break
                    for item in page:
                        await websocket.send_text(json.dumps(_event_json(item)))
                        last = item.cursor
        except AuthError as exc:
            await websocket.close(code=4401, reason=exc.reason[:120])
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            sub.close()
            if gone is not None:
                gone.cancel()

    mount_console(app)  # the operations console at / (static files, no schema entries)
    return app


def _sbs_ingest(rt: _Runtime, ep: SbsEndpoint) -> Callable[[str, Any], object]:
    """What an SBS feed's batches go to: the live ingest, as an operator of the party."""
    return lambda party, batch: rt.live.ingest(Principal(party, "operator", ep.name), batch)


async def _until_closed(websocket: WebSocket) -> None:
    """Return when the client closes the stream (it sends nothing else that matters)."""
    while True:
        msg = await websocket.receive()
        if msg["type"] == "websocket.disconnect":
            return


_MAX_CURSOR = 2**63 - 1
"""The largest cursor SQLite holds (``GET /v1/events`` takes the same range)."""


def _cursor(text: str) -> int | None:
    """A stream's ``?cursor=``: ASCII digits only (no sign, space, ``_`` or other script's
    digits, which ``int()`` would take) within :data:`_MAX_CURSOR`; None otherwise."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value <= _MAX_CURSOR else None


def _check_size(rt: _Runtime, size: int, field: str = "size") -> None:
    have = rt.ledger.size()
    if size > have:
        raise InputError(field=field, reason=f"the log has {have} leaves")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _event_json(e: Any) -> dict[str, Any]:
    return {"cursor": e.cursor, "type": e.type, "at": format_time(e.at_s), "data": e.data}


def _to_response(exc: SkyparleyError) -> JSONResponse:
    if isinstance(exc, AuthError):
        return _error(401, "unauthorized", exc.field, exc.reason)
    if isinstance(exc, PermissionDeniedError):
        return _error(403, "forbidden", exc.field, exc.reason)
    if isinstance(exc, NotFoundError):
        return _error(404, "not_found", exc.field, exc.reason)
    if isinstance(exc, ConflictError):
        return _error(409, "conflict", exc.field, exc.reason)
    if isinstance(exc, InputError):
        return _error(422, "invalid", exc.field, exc.reason)
    if isinstance(exc, VerificationError):
        return _error(422, "invalid", "signature", str(exc))
    log.error("unexpected %s: %s", type(exc).__name__, exc)
    return _error(500, "internal", None, "the service failed; the fault is logged")
