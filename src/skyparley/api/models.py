"""Request models of the HTTP API: pydantic at the edge only, nothing extra, nothing infinite.

The domain parses the notice, area and message content again (and names the field of any
error); these models give the OpenAPI document its shapes and refuse unknown members, non-finite
numbers, whole numbers given as anything else (``true``, ``"2"``, ``1e3``, ``1.0``) and
text-or-number fields given as anything else (``true``, ``null``) before anything else runs.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictFloat,
    StrictInt,
    WithJsonSchema,
)

__all__ = [
    "AckIn",
    "AreaIn",
    "CosignIn",
    "MessageIn",
    "NoticeIn",
    "SignatureIn",
    "TokenIn",
    "TracksIn",
]

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)

INT64_MAX = 2**63 - 1
"""The largest whole number SQLite stores: the bound of every whole number a request carries
(in its body here, in its query or path in the app)."""

_WHOLE = 'A JSON integer: 2.0, "2" and true are refused.'


def _text_or_number(value: object) -> str | int | float:
    """A JSON string or a finite number, as written: ``true`` is not 1 (pydantic's lax union
    reads it so), and an error names the field itself, not a member of the union."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        # pydantic turns a ValueError (not a TypeError) into a 422 naming the field
        raise ValueError(f"must be text or a number, not {_json_kind(value)}")  # noqa: TRY004
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {value}")
    if isinstance(value, int) and not -_JSON_INT_MAX <= value <= _JSON_INT_MAX:
        # the number itself is not repeated: it may run to thousands of digits
        raise ValueError(
            f"is a whole number beyond ±{_JSON_INT_MAX} (2**53 - 1), which JSON readers "
            "and the ledger's canonical form cannot hold exactly; send it as text"
        )
    return value


_JSON_INT_MAX = 2**53 - 1


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "an array" if isinstance(value, list) else "an object"


_TextOrNumber = Annotated[
    str | int | float,
    PlainValidator(_text_or_number),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}]}),
]
"""A string or a finite number, nothing read as one (``true``, ``null``)."""


class SignatureIn(BaseModel):
    """A party's signature on the statement behind a request (see ``domain.statements``)."""

    model_config = _STRICT
    client_time: str = Field(max_length=40, examples=["2015-09-30T04:00:00Z"])
    prev: str | None = Field(pattern=r"^[0-9a-f]{64}$")
    idem: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    kid: str = Field(pattern=r"^[0-9a-f]{8}$")
    sig: str = Field(min_length=1, max_length=200)


class VolumeIn(BaseModel):
    """A 4D volume: an area (GeoJSON Polygon, or a Circle or Corridor), a band, a window."""

    model_config = _STRICT
    area: dict[str, Any]
    lower: _TextOrNumber
    upper: _TextOrNumber
    start: _TextOrNumber
    end: _TextOrNumber


class NoticeBody(BaseModel):
    """An operation notice: volumes and times only. No target, weapon or purpose."""

    model_config = _STRICT
    type: Literal["operation_notice"] | None = None
    party: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=128)
    version: StrictInt = Field(ge=1, le=INT64_MAX, description=_WHOLE)
    state: Literal["planned", "active", "ended", "cancelled"]
    filed: _TextOrNumber | None = None
    remark: str | None = Field(default=None, max_length=280)
    volumes: list[VolumeIn] = Field(min_length=1, max_length=64)


class NoticeIn(BaseModel):
    """A notice version to file, with the party's signature (or none: service-attested)."""

    model_config = _STRICT
    notice: NoticeBody
    signature: SignatureIn | None = None


class CancelIn(BaseModel):
    """Cancel a notice: the party's signature on the cancelled version, or none."""

    model_config = _STRICT
    signature: SignatureIn | None = None


class AreaBody(BaseModel):
    """A protected area: a volume to keep clear, with its disclosure rule."""

    model_config = _STRICT
    type: Literal["protected_area"] | None = None
    owner: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=128)
    version: StrictInt = Field(default=1, ge=1, le=INT64_MAX, description=_WHOLE)
    kind: Literal["friendly_forces", "humanitarian", "civil", "other"]
    disclosure: Literal["owner_only", "on_conflict", "public"] | None = None
    volume: VolumeIn


class AreaIn(BaseModel):
    """A protected area version to declare."""

    model_config = _STRICT
    area: AreaBody
    signature: SignatureIn | None = None


class ContentIn(BaseModel):
    """Structured (``template`` + ``args``) or free text (``text`` + ``lang``)."""

    model_config = _STRICT
    template: str | None = Field(default=None, max_length=64)
    args: dict[str, _TextOrNumber] | None = None
    text: str | None = Field(default=None, max_length=2000)
    lang: Literal["ar", "en", "ru"] | None = None


class MessageIn(BaseModel):
    """A hotline message."""

    model_config = _STRICT
    kind: Literal["notice", "alert", "request", "reply", "text"]
    to: list[str] = Field(min_length=1, max_length=16)
    content: ContentIn
    reply_to: str | None = Field(default=None, max_length=64)
    about: str | None = Field(default=None, max_length=200)
    signature: SignatureIn | None = None


class AckIn(BaseModel):
    """Acknowledge a message: the party's signature on the ack, or none."""

    model_config = _STRICT
    signature: SignatureIn | None = None


class CosignIn(BaseModel):
    """A party's cosignature (C2SP tlog-cosignature line) of the checkpoint at ``size``."""

    model_config = _STRICT
    size: StrictInt = Field(ge=1, le=INT64_MAX, description=_WHOLE)
    cosignature: str = Field(min_length=1, max_length=300)


class TokenIn(BaseModel):
    """A new token for the admin's own party."""

    model_config = _STRICT
    role: Literal["viewer", "operator", "admin"]
    label: str | None = Field(default=None, max_length=100)


class StatesIn(BaseModel):
    """Aircraft states as columns of equal length (``time`` in epoch seconds). Numbers are
    JSON numbers: ``true`` and ``"1.5"`` are refused, not read as 1.0 and 1.5."""

    model_config = _STRICT
    time: list[StrictFloat] = Field(max_length=10_000)
    id: list[str] = Field(max_length=10_000)
    lat_deg: list[StrictFloat] = Field(max_length=10_000)
    lon_deg: list[StrictFloat] = Field(max_length=10_000)
    alt_ft: list[StrictFloat] = Field(max_length=10_000)
    gs_kt: list[StrictFloat] = Field(max_length=10_000)
    trk_deg: list[StrictFloat] = Field(max_length=10_000)
    vs_fpm: list[StrictFloat] | None = Field(default=None, max_length=10_000)


class TracksIn(BaseModel):
    """A batch of the caller's party's aircraft states (at most 10,000)."""

    model_config = _STRICT
    states: StatesIn


def content_dict(content: ContentIn) -> dict[str, Any]:
    """The content as the domain reads it (unset members left out)."""
    return content.model_dump(exclude_none=True)


class ErrorDetail(BaseModel):
    """What went wrong: a code, the field it concerns (None when none does), and why."""

    code: str
    field: str | None
    reason: str


class ErrorOut(BaseModel):
    """Every refusal of the API: ``{"error": {"code", "field", "reason"}}``."""

    error: ErrorDetail


def error_responses() -> dict[int | str, dict[str, Any]]:
    """The OpenAPI of the errors every route may answer (in place of FastAPI's own 422)."""
    what = {
        400: "The body is not JSON (field: body)",
        401: "No token, or an unknown or revoked one",
        403: "The token's role or party may not do this",
        404: "No such object, or none the caller may know of",
        409: "A version or id taken, or the party's chain moved on",
        413: "The body is over the limit",
        415: "The body is not sent as application/json",
        422: "A field is wrong (named in field)",
    }
    # the content named too: a route answering text or HTML still refuses in JSON
    ref = {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
    return {
        status: {"model": ErrorOut, "description": text, "content": {"application/json": ref}}
        for status, text in what.items()
    }
