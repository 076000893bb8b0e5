"""Operation notices and protected areas: JSON forms, refused fields, validation by name."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from skyparley.domain.notices import MAX_REMARK_CHARS, OperationNotice, ProtectedArea
from skyparley.errors import InputError

VOLUME: dict[str, Any] = {
    "area": {"type": "Circle", "center": [36.75, 35.13], "radius_nm": 20},
    "lower": "FL150",
    "upper": "FL300",
    "start": "2015-09-30T06:00:00Z",
    "end": "2015-09-30T09:00:00Z",
}


def notice_dict(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "operation_notice",
        "party": "russia",
        "id": "ru-20150930-homs-hama",
        "version": 1,
        "state": "planned",
        "filed": "2015-09-30T04:00:00Z",
        "volumes": [copy.deepcopy(VOLUME)],
    }
    base.update(over)
    return base


def area_dict(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "protected_area",
        "owner": "relief",
        "id": "relief-hama-hospital",
        "kind": "humanitarian",
        "volume": copy.deepcopy(VOLUME),
    }
    base.update(over)
    return base


def field_of(obj: dict[str, Any], cls: type[OperationNotice] | type[ProtectedArea]) -> str:
    with pytest.raises(InputError) as err:
        cls.from_dict(obj)
    return err.value.field


# ---------------------------------------------------------------- notices


def test_a_notice_reads_and_writes_back() -> None:
    n = OperationNotice.from_dict(notice_dict(remark="hotline staffed throughout"))
    assert (n.party, n.id, n.version, n.state) == ("russia", "ru-20150930-homs-hama", 1, "planned")
    assert n.ref == "russia/ru-20150930-homs-hama@1"
    assert n.start_s - (n.filed_s or 0.0) == 2 * 3600.0
    assert n.volumes[0].band.lower_ft == 15000.0
    assert n.is_live
    assert OperationNotice.from_dict(n.to_dict()) == n
    assert n.to_dict()["filed"] == "2015-09-30T04:00:00Z"


def test_type_filed_and_remark_are_optional() -> None:
    obj = notice_dict()
    del obj["type"], obj["filed"]
    n = OperationNotice.from_dict(obj)
    assert n.filed_s is None
    assert n.remark is None
    assert "filed" not in n.to_dict()
    assert "remark" not in n.to_dict()


@pytest.mark.parametrize("name", ["target", "targets", "weapon", "weapons", "purpose"])
def test_targets_weapons_and_purposes_are_refused_by_name(name: str) -> None:
    with pytest.raises(InputError, match="never stores targets, weapons or purposes") as err:
        OperationNotice.from_dict(notice_dict(**{name: "anything"}))
    assert err.value.field == name
    with pytest.raises(InputError, match="never stores") as err:
        ProtectedArea.from_dict(area_dict(**{name: "anything"}))
    assert err.value.field == name


def test_extra_fields_anywhere_are_refused_by_name() -> None:
    assert field_of(notice_dict(callsign="X"), OperationNotice) == "callsign"
    obj = notice_dict()
    obj["volumes"][0]["target"] = "bridge"
    assert field_of(obj, OperationNotice) == "volumes[0].target"
    with pytest.raises(InputError) as err:
        OperationNotice.from_dict(notice_dict(purpose="strike"), field="notices[3]")
    assert err.value.field == "notices[3].purpose"


def test_a_bowtie_is_refused_naming_the_volume_and_area() -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[36, 35], [37, 36], [37, 35], [36, 36]]]}
    obj = notice_dict(volumes=[copy.deepcopy(VOLUME), {**VOLUME, "area": bowtie}])
    with pytest.raises(InputError, match="crosses itself") as err:
        OperationNotice.from_dict(obj)
    assert err.value.field == "volumes[1].area.coordinates"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"version": 0}, "version"),
        ({"version": 1.5}, "version"),
        ({"version": True}, "version"),
        ({"state": "approved"}, "state"),
        ({"state": "canceled"}, "state"),
        ({"volumes": []}, "volumes"),
        ({"volumes": "a circle"}, "volumes"),
        ({"volumes": [copy.deepcopy(VOLUME)] * 65}, "volumes"),
        ({"id": ""}, "id"),
        ({"id": "has space"}, "id"),
        ({"id": "x" * 129}, "id"),
        ({"party": ""}, "party"),
        ({"party": 7}, "party"),
        ({"filed": "yesterday"}, "filed"),
        ({"remark": 12}, "remark"),
        ({"remark": "x" * (MAX_REMARK_CHARS + 1)}, "remark"),
        ({"remark": "line\x00break"}, "remark"),
        ({"type": "protected_area"}, "type"),
    ],
)
def test_bad_notice_fields_are_named(over: dict[str, Any], field: str) -> None:
    assert field_of(notice_dict(**over), OperationNotice) == field


@pytest.mark.parametrize("missing", ["party", "id", "version", "state", "volumes"])
def test_required_notice_fields(missing: str) -> None:
    obj = notice_dict()
    del obj[missing]
    with pytest.raises(InputError, match="is required") as err:
        OperationNotice.from_dict(obj)
    assert err.value.field == missing


def test_a_remark_at_the_limit_is_kept_and_states_tell_liveness() -> None:
    n = OperationNotice.from_dict(notice_dict(remark="x" * MAX_REMARK_CHARS, state="active"))
    assert n.is_live
    assert len(n.remark or "") == MAX_REMARK_CHARS
    for state in ("ended", "cancelled"):
        assert not OperationNotice.from_dict(notice_dict(state=state)).is_live


def test_constructing_directly_is_validated_too() -> None:
    n = OperationNotice.from_dict(notice_dict())
    with pytest.raises(InputError) as err:
        OperationNotice("russia", "x", 0, "planned", n.volumes)
    assert err.value.field == "version"
    with pytest.raises(InputError) as err:
        OperationNotice("russia", "x", 1, "planned", ())
    assert err.value.field == "volumes"
    assert OperationNotice("russia", "x", 1, "planned", n.volumes, filed_s=0.0).filed_s == 0.0


def test_a_notice_must_be_an_object() -> None:
    with pytest.raises(InputError, match="must be a table of fields"):
        OperationNotice.from_dict([notice_dict()])


# ---------------------------------------------------------------- protected areas


def test_a_protected_area_reads_and_writes_back() -> None:
    a = ProtectedArea.from_dict(area_dict())
    assert (a.owner, a.id, a.version, a.kind) == (
        "relief",
        "relief-hama-hospital",
        1,
        "humanitarian",
    )
    assert a.disclosure is None
    assert ProtectedArea.from_dict(a.to_dict()) == a
    b = ProtectedArea.from_dict(area_dict(disclosure="owner_only", version=3))
    assert b.ref == "relief/relief-hama-hospital@3"
    assert b.to_dict()["disclosure"] == "owner_only"
    assert ProtectedArea.from_dict(b.to_dict()) == b


def test_without_a_disclosure_the_protocol_default_applies() -> None:
    a = ProtectedArea.from_dict(area_dict())
    assert a.disclosure_under("on_conflict") == "on_conflict"
    assert a.disclosure_under("public") == "public"
    b = ProtectedArea.from_dict(area_dict(disclosure="owner_only"))
    assert b.disclosure_under("public") == "owner_only"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"kind": "hospital"}, "kind"),
        ({"disclosure": "secret"}, "disclosure"),
        ({"version": 0}, "version"),
        ({"owner": None}, "owner"),
        ({"volume": {**VOLUME, "lower": "FL500"}}, "volume.upper"),
        ({"volume": {**VOLUME, "weapon": "x"}}, "volume.weapon"),
        ({"volumes": [VOLUME]}, "volumes"),
        ({"type": "operation_notice"}, "type"),
    ],
)
def test_bad_area_fields_are_named(over: dict[str, Any], field: str) -> None:
    assert field_of(area_dict(**over), ProtectedArea) == field
