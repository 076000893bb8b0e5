"""Every error of the API is JSON ``{"error": {"code", "field", "reason"}}``, never a 500.

Against a real server on loopback: malformed JSON, unknown members, non-finite numbers, a
body over the limit, a stale notice version, an unknown message, and signatures made with
the wrong key or on a stale chain head (signed with the scenario's demo keys).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from tests.service_server import SCENARIO_DIR, T0, Server, running_server

from skyparley.api import Settings
from skyparley.api.app import _read_within
from skyparley.domain.ledger.checkpoint import Witness
from skyparley.domain.ledger.keys import COSIGNATURE_V1
from skyparley.domain.notices import OperationNotice
from skyparley.domain.statements import notice_body, sign_statement

NOTICE = "beat2-coalition-raqqa.json"


def _notice(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCENARIO_DIR / NOTICE).read_text(encoding="utf-8"))
    return data | changes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("errors")) as s:
        yield s


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client("coalition") as c:
        yield c


def _error(r: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"}
    err: dict[str, Any] = body["error"]
    assert set(err) == {"code", "field", "reason"}
    assert err["code"] == code
    assert isinstance(err["reason"], str)
    assert err["reason"]
    assert "Traceback" not in err["reason"]
    if field is not None:
        assert err["field"] == field, err
    return err


def _ledger_size(server: Server) -> int:
    return int(httpx.get(f"{server.url}/v1/health").json()["ledger_size"])


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"notice": ', b"not json", b'{"notice": {"id": "x",}}', b"\xff\xfe"],
    ids=["open-brace", "truncated", "words", "trailing-comma", "not-utf8"],
)
def test_malformed_json_is_400(server: Server, client: httpx.Client, raw: bytes) -> None:
    before = _ledger_size(server)
    r = client.post("/v1/notices", content=raw, headers={"content-type": "application/json"})
    _error(r, 400, "malformed")
    assert _ledger_size(server) == before


DEEP = b'{"kind": "text", "to": ["russia"], "content": {"text": "x", "lang": "en", "args": '
DEEP += b"[" * 2000 + b"]" * 2000 + b"}}"


@pytest.mark.parametrize(
    "path", ["/v1/notices", "/v1/notices/check", "/v1/messages", "/v1/protected-areas"]
)
def test_json_nested_too_deeply_is_400_naming_the_body(client: httpx.Client, path: str) -> None:
    r = client.post(path, content=DEEP, headers={"content-type": "application/json"})
    _error(r, 400, "malformed", "body")


@pytest.mark.parametrize(
    "path", ["/v1/notices", "/v1/notices/check", "/v1/messages", "/v1/protected-areas"]
)
@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_415_on_every_route(
    server: Server, client: httpx.Client, path: str, kind: str
) -> None:
    """Even a valid notice: every route reads JSON only, and says so (no 422 about a
    dictionary, no filing through one route and a refusal through the other)."""
    raw = json.dumps({"notice": _notice(id="co-plain")}).encode()
    before = _ledger_size(server)
    err = _error(client.post(path, content=raw, headers={"content-type": kind}), 415,
                 "unsupported_media_type", "content-type")  # fmt: skip
    assert kind in err["reason"]
    assert _ledger_size(server) == before


def test_json_with_a_charset_or_a_json_suffix_is_read(client: httpx.Client) -> None:
    for kind in ("application/json; charset=utf-8", "application/vnd.skyparley+json"):
        r = client.post(
            "/v1/notices/check",
            content=json.dumps({"notice": _notice()}).encode(),
            headers={"content-type": kind},
        )
        assert r.status_code == 200, (kind, r.text)


@pytest.mark.parametrize(
    ("path", "body", "field", "what"),
    [
        ("/v1/notices", {"notice": _notice(target="x")}, "notice.target", "an operation notice"),
        (
            "/v1/notices/check",
            {"notice": _notice(weapon="x")},
            "notice.weapon",
            "an operation notice",
        ),
        (
            "/v1/notices",
            {"notice": _notice(volumes=[_notice()["volumes"][0] | {"purpose": "x"}])},
            "notice.volumes[0].purpose",
            "a volume",
        ),
    ],
    ids=["notice", "check", "volume"],
)
def test_a_target_weapon_or_purpose_is_refused_with_the_reason(
    server: Server, client: httpx.Client, path: str, body: Any, field: str, what: str
) -> None:
    before = _ledger_size(server)
    err = _error(client.post(path, json=body), 422, "invalid", field)
    assert err["reason"] == (
        f"is not a field of {what}: skyparley never stores targets, weapons or purposes"
    )
    assert _ledger_size(server) == before


def test_a_consistency_proof_past_the_log_names_to(client: httpx.Client) -> None:
    r = client.get("/v1/ledger/proofs/consistency", params={"from": 1, "to": 10**9})
    _error(r, 422, "invalid", "to")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"notice": _notice(), "target": "Raqqa"}, "target"),
        ({"notice": _notice(target="Raqqa")}, "notice.target"),
        (
            {
                "notice": _notice(
                    volumes=[_notice()["volumes"][0] | {"weapon": "none of your business"}]
                )
            },
            "notice.volumes[0].weapon",
        ),
    ],
    ids=["top-level-target", "notice-target", "volume-weapon"],
)
def test_an_extra_field_is_422_naming_it(
    server: Server, client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    before = _ledger_size(server)
    err = _error(client.post("/v1/notices", json=body), 422, "invalid", field)
    assert "weapon" not in json.dumps(client.get("/v1/notices").json())
    assert err["field"] == field
    assert _ledger_size(server) == before


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.parametrize(
    "where",
    ["lower", "radius_nm", "center"],
)
def test_non_finite_numbers_are_refused_not_500(
    server: Server, client: httpx.Client, number: str, where: str
) -> None:
    """Raw ``NaN`` / ``Infinity`` tokens (which Python's json reads) are a 4xx."""
    marker = "__NUMBER__"
    notice = _notice(id=f"co-nan-{where}")
    volume = notice["volumes"][0]
    if where == "lower":
        volume["lower"] = marker
    elif where == "radius_nm":
        volume["area"]["radius_nm"] = marker
    else:
        volume["area"]["center"] = [marker, 35.7]
    raw = json.dumps({"notice": notice}).replace(f'"{marker}"', number)
    before = _ledger_size(server)
    r = client.post("/v1/notices", content=raw, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    _error(r, r.status_code, r.json()["error"]["code"])
    assert _ledger_size(server) == before


def test_nan_in_a_message_argument_is_refused(client: httpx.Client) -> None:
    raw = (
        '{"kind": "text", "to": ["russia"], '
        '"content": {"template": "notice_filed", "args": {"volumes": NaN}}}'
    )
    r = client.post("/v1/messages", content=raw, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    _error(r, r.status_code, r.json()["error"]["code"])


@pytest.mark.parametrize("value", ["true", "null", "[1]", '{"n": 1}'])
def test_a_message_argument_that_is_not_text_or_a_number_is_422_naming_it(
    server: Server, client: httpx.Client, value: str
) -> None:
    # true was read as 1 before: the message went out saying "1 volume"
    raw = (
        '{"kind": "text", "to": ["russia"], '
        f'"content": {{"template": "notice_filed", "args": {{"party": "coalition", '
        f'"notice": "coalition/co-1@1", "start": "2015-10-01T10:00:00Z", '
        f'"end": "2015-10-01T11:00:00Z", "volumes": {value}}}}}}}'
    )
    before = _ledger_size(server)
    r = client.post("/v1/messages", content=raw, headers={"content-type": "application/json"})
    _error(r, 422, "invalid", "content.args.volumes")
    assert _ledger_size(server) == before


@pytest.mark.parametrize("value", ["9007199254740993", "-9007199254740993", "1" + "0" * 400])
def test_a_whole_number_past_2_53_in_an_argument_is_422_naming_it(
    server: Server, client: httpx.Client, value: str
) -> None:
    """The ledger's canonical JSON cannot hold it: the error names the argument and does
    not repeat the number (400 digits of it, before)."""
    raw = (
        '{"kind": "request", "to": ["russia"], "content": {"template": "request_shift", '
        f'"args": {{"notice": "russia/ru-1@1", "minutes": {value}}}}}}}'
    )
    before = _ledger_size(server)
    r = client.post("/v1/messages", content=raw, headers={"content-type": "application/json"})
    err = _error(r, 422, "invalid", "content.args.minutes")
    assert value.lstrip("-") not in err["reason"]
    assert _ledger_size(server) == before


@pytest.mark.parametrize(("minutes", "shown"), [("1e25", "1e+25"), ("-2.5e21", "-2.5e+21")])
def test_a_number_too_large_for_the_locale_is_sent_and_shown_as_given(
    client: httpx.Client, minutes: str, shown: str
) -> None:
    """Babel cannot write such a number for a locale; the message still renders (a 500
    before)."""
    raw = (
        '{"kind": "request", "to": ["russia"], "content": {"template": "request_shift", '
        f'"args": {{"notice": "russia/ru-1@1", "minutes": {minutes}}}}}}}'
    )
    r = client.post("/v1/messages", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text
    assert f"by {shown} minutes" in r.json()["rendered"]["text"]


def test_a_body_over_1_mib_is_413(server: Server, client: httpx.Client) -> None:
    notice = _notice(id="co-huge", remark="x" * (1024 * 1024 + 1))
    before = _ledger_size(server)
    _error(client.post("/v1/notices", json={"notice": notice}), 413, "too_large", "body")
    assert _ledger_size(server) == before


def test_a_chunked_body_over_1_mib_is_413(client: httpx.Client) -> None:
    """No content-length: the limit still holds on what is read."""

    def chunks() -> Iterator[bytes]:
        yield b'{"notice": {"remark": "'
        for _ in range(17):
            yield b"x" * 65_536
        yield b'"}}'

    r = client.post("/v1/notices", content=chunks(), headers={"content-type": "application/json"})
    _error(r, 413, "too_large")


def test_a_chunked_body_over_the_tracks_limit_is_413_naming_that_limit(
    client: httpx.Client,
) -> None:
    """/v1/tracks takes 8 MiB: its 413 says so, not the 1 MiB of the other paths."""
    limit = Settings.max_tracks_body_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"states": "'
        for _ in range(limit // 65_536 + 1):
            yield b"x" * 65_536
        yield b'"}'

    r = client.post("/v1/tracks", content=chunks(), headers={"content-type": "application/json"})
    err = _error(r, 413, "too_large", "body")
    assert err["reason"] == f"is over {limit} bytes"


def test_an_endless_chunked_body_is_refused_without_being_kept() -> None:
    """A body sent without content-length is read on (and dropped) past its limit only up
    to a bound: an endless one gets its 413, and no more than the limit is ever kept."""
    limit = 1000
    sent = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        sent += 1
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    assert asyncio.run(_read_within(request, limit)) is None
    assert sent == 4 * limit // 100 + 1

    async def short() -> dict[str, Any]:
        return {"type": "http.request", "body": b"x" * limit, "more_body": False}

    body = asyncio.run(_read_within(Request({"type": "http", "headers": []}, short), limit))
    assert body == b"x" * limit


def test_a_chunked_body_within_the_limit_is_read_once_and_handed_on(
    server: Server, client: httpx.Client
) -> None:
    """No content-length: the body is read to check its size, and the endpoint still gets it."""
    raw = json.dumps({"notice": _notice(id="co-chunked")}).encode()

    def chunks() -> Iterator[bytes]:
        for k in range(0, len(raw), 100):
            yield raw[k : k + 100]

    r = client.post("/v1/notices", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 201, r.text
    assert r.json()["notice"]["id"] == "co-chunked"


def test_answered_requests_are_counted_by_route_and_status(server: Server) -> None:
    with server.client("relief", "admin") as admin:
        admin.get("/v1/no-such-path")
        admin.get("/v1/notices/relief-none")
        text = admin.get("/v1/metrics").text
    assert 'skyparley_http_requests_total{method="GET",route="unmatched",status="404"}' in text
    route = 'route="/v1/notices/{notice_id}"'
    assert f'skyparley_http_requests_total{{method="GET",{route},status="404"}}' in text
    assert 'skyparley_http_request_seconds_count{route="/v1/notices/{notice_id}"}' in text


def test_the_metrics_tell_the_wal_size_and_failed_checkpoints(server: Server) -> None:
    with server.client("relief", "admin") as admin:
        text = admin.get("/v1/metrics").text
    values = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert float(values["skyparley_sqlite_wal_bytes"]) > 0  # the tokens and notices written
    assert float(values["skyparley_wal_checkpoint_failures_total"]) == 0


def test_a_wrong_version_is_409_naming_notice_version(server: Server, client: httpx.Client) -> None:
    notice = _notice(id="co-versions")
    assert client.post("/v1/notices", json={"notice": notice}).status_code == 201
    before = _ledger_size(server)
    for version in (1, 3, 7):
        changed = notice | {"version": version, "remark": f"version {version}"}
        r = client.put("/v1/notices/co-versions", json={"notice": changed})
        _error(r, 409, "conflict", "notice.version")
    r = client.post("/v1/notices", json={"notice": notice | {"version": 2}})
    assert r.status_code == 409
    assert _ledger_size(server) == before
    ok = client.put("/v1/notices/co-versions", json={"notice": notice | {"version": 2}})
    assert ok.status_code == 200, ok.text


def test_an_unknown_message_is_404(client: httpx.Client) -> None:
    for path in ("/v1/messages/m-000000000000000000000000", "/v1/threads/m-nothing"):
        _error(client.get(path), 404, "not_found")
    _error(client.post("/v1/messages/m-000000000000000000000000/ack", json={}), 404, "not_found")


def test_unknown_paths_and_methods_are_errors_of_the_same_shape(client: httpx.Client) -> None:
    _error(client.get("/v1/nothing-here"), 404, "not_found")
    _error(client.patch("/v1/notices"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/notices/co-x?version=9223372036854775808",
        "/v1/messages?after=9223372036854775808",
        "/v1/events?after=9223372036854775808",
    ],
    ids=["notice-version", "inbox-after", "events-after"],
)
def test_integers_past_64_bits_are_4xx(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert 400 <= r.status_code < 500, r.text
    _error(r, r.status_code, r.json()["error"]["code"])


def _signed_notice(server: Server, *, signer: str, prev: str | None, idem: str) -> dict[str, Any]:
    notice = _notice(id=idem)
    with server.client("coalition", "viewer") as c:
        log_id = c.get("/v1/ledger/head").json()["log_id"]
    parsed = OperationNotice.from_dict(notice, field="notice")
    others = ["relief", "russia"]
    sig, _ = sign_statement(
        server.key(signer),
        log_id=log_id,
        party="coalition",
        kind="notice",
        body=notice_body(parsed, others),
        prev=prev,
        idem=idem,
        now_s=T0,
    )
    return {"notice": notice, "signature": sig.to_dict()}


def test_a_signature_with_a_wrong_key_is_422_signature(
    server: Server, client: httpx.Client
) -> None:
    head = client.get("/v1/ledger/head").json()["prev"]
    before = _ledger_size(server)
    body = _signed_notice(server, signer="russia", prev=head, idem="co-wrong-key")
    _error(client.post("/v1/notices", json=body), 422, "invalid", "signature")
    assert _ledger_size(server) == before
    good = _signed_notice(server, signer="coalition", prev=head, idem="co-right-key")
    r = client.post("/v1/notices", json=good)
    assert r.status_code == 201, r.text
    assert r.json()["attested"] is False


def test_a_signature_on_a_stale_prev_is_409_signature_prev(
    server: Server, client: httpx.Client
) -> None:
    stale = client.get("/v1/ledger/head").json()["prev"]
    first = _signed_notice(server, signer="coalition", prev=stale, idem="co-chain-1")
    assert client.post("/v1/notices", json=first).status_code == 201
    before = _ledger_size(server)
    second = _signed_notice(server, signer="coalition", prev=stale, idem="co-chain-2")
    _error(client.post("/v1/notices", json=second), 409, "conflict", "signature.prev")
    assert _ledger_size(server) == before


def test_errors_for_a_missing_token_name_no_object(tmp_path: Path) -> None:
    with running_server(tmp_path) as s:
        r = httpx.get(f"{s.url}/v1/notices/co-x")
        err = _error(r, 401, "unauthorized")
        assert "co-x" not in err["reason"]
        assert r.headers["www-authenticate"] == "Bearer"


# The filing routes read their body in one pass (pydantic's JSON parser, not a FastAPI body
# parameter): the same answers as every other route, and the same OpenAPI.


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_a_filing_without_a_body_is_422_naming_the_body(
    server: Server, client: httpx.Client, method: str
) -> None:
    before = _ledger_size(server)
    path = "/v1/notices" if method == "POST" else "/v1/notices/co-x"
    r = client.request(method, path, headers={"content-type": "application/json"})
    _error(r, 422, "invalid", "body")
    assert _ledger_size(server) == before


def test_a_new_version_with_an_extra_field_is_422_naming_it(
    server: Server, client: httpx.Client
) -> None:
    notice = _notice(id="co-extra-v2")
    assert client.post("/v1/notices", json={"notice": notice}).status_code == 201
    before = _ledger_size(server)
    changed = notice | {"version": 2, "target": "Raqqa"}
    r = client.put("/v1/notices/co-extra-v2", json={"notice": changed})
    _error(r, 422, "invalid", "notice.target")
    assert _ledger_size(server) == before


@pytest.mark.parametrize(
    "number",
    ["9223372036854775808", "1e30", "1.5", "1e3", "1.0", '"1"', '"2"', "true", "0", "-1", "null"],
)
def test_a_notice_version_that_is_not_a_whole_number_from_1_is_422_naming_it(
    server: Server, client: httpx.Client, number: str
) -> None:
    # A version is a JSON integer: a string, a boolean or a number with a fraction or an
    # exponent is refused as written, never read as the integer it might stand for.
    raw = json.dumps({"notice": _notice(id="co-odd-version")}).replace(
        '"version": 1', f'"version": {number}'
    )
    assert f'"version": {number}' in raw
    before = _ledger_size(server)
    r = client.post("/v1/notices", content=raw, headers={"content-type": "application/json"})
    _error(r, 422, "invalid", "notice.version")
    assert _ledger_size(server) == before


@pytest.mark.parametrize("value", ["true", '"2"', "1.0", "9223372036854775808"])
def test_an_area_version_and_a_cosigned_size_are_whole_numbers(
    server: Server, client: httpx.Client, value: str
) -> None:
    area = {
        "owner": "coalition",
        "id": "co-odd-area",
        "version": 1,
        "kind": "other",
        "volume": _notice()["volumes"][0],
    }
    json_body = {"content-type": "application/json"}
    raw = json.dumps({"area": area}).replace('"version": 1', f'"version": {value}')
    r = client.post("/v1/protected-areas", content=raw, headers=json_body)
    _error(r, 422, "invalid", "area.version")
    raw = f'{{"size": {value}, "cosignature": "x"}}'
    r = client.post("/v1/ledger/cosign", content=raw, headers=json_body)
    _error(r, 422, "invalid", "size")


@pytest.mark.parametrize("member", ["lower", "upper", "start", "end"])
@pytest.mark.parametrize(("value", "kind"), [("true", "a boolean"), ("null", "null")])
def test_a_volume_bound_that_is_not_text_or_a_number_is_422_naming_it(
    server: Server, client: httpx.Client, member: str, value: str, kind: str
) -> None:
    # "lower": true was filed as 1 ft before
    volume = _notice()["volumes"][0]
    raw = json.dumps({"notice": _notice(id="co-odd-bound")}).replace(
        json.dumps(volume), json.dumps(volume | {member: "@"}).replace('"@"', value)
    )
    assert f'"{member}": {value}' in raw
    before = _ledger_size(server)
    r = client.post("/v1/notices", content=raw, headers={"content-type": "application/json"})
    err = _error(r, 422, "invalid", f"notice.volumes[0].{member}")
    assert f"must be text or a number, not {kind}" in err["reason"]
    assert _ledger_size(server) == before


def test_the_filing_routes_document_the_notice_body(server: Server) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    for path, method, status in [
        ("/v1/notices", "post", "201"),
        ("/v1/notices/{notice_id}", "put", "200"),
    ]:
        op = spec["paths"][path][method]
        body = op["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/NoticeIn"
        }
        assert set(op["responses"]) >= {status, "422"}
    assert "notice" in spec["components"]["schemas"]["NoticeIn"]["properties"]


def test_a_checkpoint_the_log_never_signed_is_404_naming_the_size(
    server: Server, client: httpx.Client
) -> None:
    latest = client.get("/v1/ledger/checkpoint").json()
    again = client.get("/v1/ledger/checkpoint", params={"size": latest["size"]})
    assert again.status_code == 200, again.text
    assert again.json() == latest
    never = latest["size"] + 1000
    r = client.get("/v1/ledger/checkpoint", params={"size": never})
    err = _error(r, 404, "not_found", "size")
    assert err["reason"] == f"the log signed no checkpoint of size {never}"


def test_a_cosignature_says_whether_it_is_the_one_kept(
    server: Server, client: httpx.Client
) -> None:
    """A party's first cosignature of a size is kept: a later, different one answered
    stored: true and was dropped. A size never signed is a 404 naming it."""
    text = {"kind": "text", "to": ["russia"], "content": {"text": "for a checkpoint", "lang": "en"}}
    assert client.post("/v1/messages", json=text).status_code == 201  # the log is not empty
    cp = client.get("/v1/ledger/checkpoint").json()
    witness = Witness(
        key=server.key("coalition").with_type(COSIGNATURE_V1),
        log_key=server.service_key.verifier,
        origin=cp["checkpoint"].split("\n", 1)[0],
    )

    def cosign(time_s: int, size: int = cp["size"]) -> httpx.Response:
        line = witness.cosign(cp["checkpoint"], (), time_s=time_s).cosignature.to_line()
        return client.post("/v1/ledger/cosign", json={"size": size, "cosignature": line})

    t = int(server.clock.now_s())
    first = cosign(t)
    assert first.status_code == 200, first.text
    assert first.json()["stored"] is True
    assert cosign(t).json()["stored"] is True  # the same line again
    other = cosign(t + 1).json()
    assert other["stored"] is False
    assert "the first is the one kept" in other["reason"]
    err = _error(cosign(t, cp["size"] + 1000), 404, "not_found", "size")
    assert err["reason"] == f"the log signed no checkpoint of size {cp['size'] + 1000}"


@pytest.mark.parametrize("value", ["true", '"35.5"', "null"])
def test_an_aircraft_state_that_is_not_a_json_number_is_422_naming_it(
    client: httpx.Client, value: str
) -> None:
    # true was read as 1.0 before: an aircraft at 1 deg N in the live picture
    states = {
        "time": [1443686400.0],
        "id": ["co-ac-1"],
        "lat_deg": ["@"],
        "lon_deg": [38.0],
        "alt_ft": [20000.0],
        "gs_kt": [420.0],
        "trk_deg": [90.0],
    }
    raw = json.dumps({"states": states}).replace('"@"', value)
    r = client.post("/v1/tracks", content=raw, headers={"content-type": "application/json"})
    _error(r, 422, "invalid", "states.lat_deg[0]")
    ok = client.post("/v1/tracks", json={"states": states | {"lat_deg": [35]}})
    assert ok.status_code == 200, ok.text  # a JSON integer is a number


def test_a_filed_time_that_is_not_text_or_a_number_is_422_naming_it(
    server: Server, client: httpx.Client
) -> None:
    raw = json.dumps({"notice": _notice(id="co-odd-filed", filed="@")}).replace('"@"', "true")
    before = _ledger_size(server)
    r = client.post("/v1/notices", content=raw, headers={"content-type": "application/json"})
    _error(r, 422, "invalid", "notice.filed")
    assert _ledger_size(server) == before


def test_the_openapi_documents_the_errors_as_they_are_answered(client: httpx.Client) -> None:
    """Every operation's 4xx answers are the error shape the server sends, not FastAPI's
    ``{"detail": [...]}``, which it never sends."""
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(spec)
    error = spec["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["error"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status in ("401", "404", "422"):
                content = op["responses"][status]["content"]
                ref = {"$ref": "#/components/schemas/ErrorOut"}
                assert content == {"application/json": {"schema": ref}}, (path, method)
