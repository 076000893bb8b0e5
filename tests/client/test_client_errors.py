"""``skyparley.client.Client``'s errors: a secret never in their text, a blank id refused
before any request, and an answer that is not the service's own (a redirect) said so."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from skyparley.client import Client, ClientError
from skyparley.errors import InputError

TOKEN = "skp_" + "S3cretS3cretS3cret" + "x" * 25


def _client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    url: str = "http://svc.test",
    token: str = TOKEN,
) -> tuple[Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return Client(url, token, transport=httpx.MockTransport(record)), seen


@pytest.mark.parametrize(
    ("token", "why"),
    [(TOKEN + "\n", "line break"), (TOKEN + " ", "space"), (TOKEN[:-1] + "é", "non-ASCII")],
)
def test_a_token_that_cannot_be_a_header_is_refused_unshown(token: str, why: str) -> None:
    with pytest.raises(InputError) as caught:
        Client("http://svc.test", token)
    assert caught.value.field == "token"
    assert why in str(caught.value)
    assert "S3cret" not in str(caught.value)


def test_a_header_httpx_refuses_is_not_quoted_in_the_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError(f"Illegal header value b'Bearer {TOKEN}\\n'")

    client, _ = _client(refuse)
    with client, pytest.raises(ClientError) as caught:
        client.health()
    assert "S3cret" not in str(caught.value)
    assert caught.value.field != "url"  # the service was not at fault


def test_a_password_in_the_url_is_masked_in_errors() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    client, _ = _client(down, url="http://ops:hunter2@svc.test:8000")
    with client, pytest.raises(ClientError) as caught:
        client.health()
    assert "hunter2" not in str(caught.value)
    assert "http://ops:***@svc.test:8000" in str(caught.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.ack(""),
        lambda c: c.message(" "),
        lambda c: c.cancel_notice(""),
        lambda c: c.notice(""),
        lambda c: c.thread(""),
        lambda c: c.send("reply", ["russia"], {"text": "hi", "lang": "en"}, reply_to=""),
    ],
)
def test_a_blank_id_is_refused_before_any_request(call: Callable[[Client], object]) -> None:
    client, seen = _client(lambda r: httpx.Response(200, json={}))
    with client, pytest.raises(InputError, match="must be a non-empty id"):
        call(client)
    assert seen == []


def test_a_redirect_is_an_error_not_an_empty_answer() -> None:
    client, _ = _client(
        lambda r: httpx.Response(307, headers={"location": "https://svc.test/v1/health"})
    )
    with client, pytest.raises(ClientError) as caught:
        client.health()
    assert caught.value.status == 307
    assert "https://svc.test/v1/health" in str(caught.value)
