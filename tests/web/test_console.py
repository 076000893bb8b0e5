"""The operations console in Debian's Chromium, driven by Playwright, against a real server.

Each test starts the service with the Syria 2015 protocol (``tests/service_server``), opens
the console at ``/`` in a fresh browser context per party, logs in with the party's token and
checks what a duty officer sees. Screenshots go to ``test-artifacts/console/``.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.service_server import SCENARIO_DIR, Server, running_server

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, expect, sync_playwright

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
CHROMIUM = Path("/usr/bin/chromium")
BEAT3 = ROOT / "src/skyparley/data/scenarios/syria-2015-beat3.csv"
I18N = ROOT / "src/skyparley/web/static/i18n"
VIEWPORT = {"width": 1400, "height": 900}
WAIT_MS = 20_000  # the longest any expectation waits for the page
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # two consoles side by side: the one behind must keep its timers (the picture poll)
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]
HOSPITAL = "relief-hama-hospital"
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's Chromium")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def load(name: str) -> dict[str, Any]:
    return json.loads((SCENARIO_DIR / name).read_text(encoding="utf-8"))


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


class Seen:
    """Every HTTP response body and WebSocket frame the page received."""

    def __init__(self, page: Page) -> None:
        self.responses: list[Any] = []
        self.frames: list[str] = []
        page.on("response", lambda r: self.responses.append(r))  # noqa: PLW0108 (a bound builtin breaks Playwright)
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: str | bytes) -> None:
        self.frames.append(payload if isinstance(payload, str) else payload.decode())

    def texts(self) -> list[str]:
        return self.frames + [r.text() for r in self.responses if "/v1/" in r.url]


@contextmanager
def console(
    browser: Browser, server: Server, party: str, *, lang: str | None = None
) -> Iterator[tuple[Page, Seen]]:
    """A page of the console logged in as ``party`` (in ``lang`` if given)."""
    ctx = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    seen = Seen(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server.url + "/")
        expect(page.locator("#login-form")).to_be_visible()
        if lang:
            page.select_option("#lang", lang)
            expect(page.locator("html")).to_have_attribute("lang", lang)
        page.fill("#token", server.token(party))
        page.click("#login-form button[type=submit]")
        expect(page.locator("#console")).to_be_visible()
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        expect(page.locator("#map")).to_have_attribute("data-basemap", re.compile(r"^\d{3}$"))
        yield page, seen
        assert errors == [], f"script errors in the {party} page: {errors}"
    finally:
        ctx.close()


def tab(page: Page, name: str) -> None:
    page.bring_to_front()
    page.click(f'.tabs button[data-tab="{name}"]')
    expect(page.locator(f"#tab-{name}")).to_be_visible()


def strings(lang: str) -> dict[str, str]:
    return json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------- log in, basemap


@pytest.mark.parametrize(
    ("party", "lang", "label"),
    [
        ("coalition", "en", "Coalition"),
        ("russia", "ru", "Россия"),
        ("relief", "ar", "مكتب الإغاثة"),
    ],
)
def test_each_party_logs_in_and_sees_the_map_in_its_language(
    browser: Browser, tmp_path: Path, party: str, lang: str, label: str
) -> None:
    with running_server(tmp_path) as server, console(browser, server, party) as (page, _):
        # the party's language from the protocol, the map with its basemap and the zones
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.get_by_test_id("party")).to_have_text(label)
        expect(page.locator("path.basemap").first).to_be_attached()
        expect(page.locator("path.zone-euphrates-line")).to_have_count(1)
        expect(page.locator("path.zone-tanf")).to_have_count(1)
        tab(page, "notices")
        expect(page.locator("#zones li")).to_have_count(2)
        shot(page, f"login-{party}")
        # log out: back to the login form, the token forgotten
        page.click("#logout")
        expect(page.locator("#login-form")).to_be_visible()
        assert page.evaluate("sessionStorage.getItem('skyparley.token')") is None


def test_a_bad_token_is_refused_with_a_message(browser: Browser, tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        ctx = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        page = ctx.new_page()
        page.goto(server.url + "/")
        page.fill("#token", "skp_" + "x" * 43)
        page.click("#login-form button[type=submit]")
        expect(page.locator("#login-error")).to_have_text(strings("en")["login.bad"])
        expect(page.locator("#console")).to_be_hidden()
        ctx.close()


# ---------------------------------------------------------------------- need to know, acks


def beat1(server: Server) -> str:
    """The relief hospital, then Russia's notice over Homs and Hama; the notice message id."""
    with server.client("relief") as c:
        r = c.post("/v1/protected-areas", json={"area": load("beat1-relief-hama-hospital.json")})
        assert r.status_code == 201, r.text
    with server.client("russia") as c:
        r = c.post("/v1/notices", json={"notice": load("beat1-russia-homs-hama.json")})
        assert r.status_code == 201, r.text
        assert r.json()["findings"], "the notice overlaps the hospital"
        return str(r.json()["message_id"])


def test_the_relief_hospital_is_not_visible_to_the_coalition(
    browser: Browser, tmp_path: Path
) -> None:
    with running_server(tmp_path) as server:
        notice_msg = beat1(server)
        # the owner sees its hospital on the map and in its list (the check can fail)
        with console(browser, server, "relief") as (page, _):
            expect(page.locator(f"path.area-{HOSPITAL}")).to_have_count(1)
            tab(page, "notices")
            expect(page.locator(f'#areas li[data-area="{HOSPITAL}"]')).to_be_visible()
            shot(page, "need-to-know-relief")
        # Russia, whose notice overlaps it, sees the overlap only, never the area
        with console(browser, server, "russia") as (page, seen):
            tab(page, "notices")
            expect(page.locator("#findings li.kind-protected_area")).to_have_count(1)
            expect(page.locator("path.finding")).to_have_count(1)
            expect(page.locator(f"path.area-{HOSPITAL}")).to_have_count(0)
            assert not any(HOSPITAL in text for text in seen.texts())
            shot(page, "need-to-know-russia")
        # the coalition gets Russia's notice, and nothing of the hospital
        with console(browser, server, "coalition") as (page, seen):
            tab(page, "hotline")
            expect(page.locator(f'#inbox li[data-message="{notice_msg}"]')).to_be_visible()
            tab(page, "notices")
            expect(page.locator("#findings li")).to_have_count(0)
            shapes = page.locator(f"path.area-{HOSPITAL}, path.finding, path.protected-area")
            expect(shapes).to_have_count(0)
            assert HOSPITAL not in page.content()
            texts = seen.texts()
            assert any(notice_msg in t for t in texts), "the page received the notice"
            assert not any(HOSPITAL in t or "35.17" in t for t in texts)
            shot(page, "need-to-know-coalition")


def test_an_acknowledgement_shows_on_the_senders_console(browser: Browser, tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        notice_msg = beat1(server)
        with (
            console(browser, server, "russia", lang="en") as (sender, _),
            console(browser, server, "relief", lang="en") as (reader, _),
        ):
            tab(sender, "hotline")
            sent = sender.locator(f'#sent li[data-message="{notice_msg}"]')
            expect(sent.locator(".waiting")).to_have_count(2)  # coalition and relief
            expect(sent.locator(".countdown").first).to_contain_text("left to acknowledge")
            tab(reader, "hotline")
            item = reader.locator(f'#inbox li[data-message="{notice_msg}"]')
            # rendered by the service for the reader: relief reads Arabic, whatever the UI
            expect(item.locator(".text")).to_have_attribute("lang", "ar")
            expect(item.locator(".text")).to_contain_text("russia/ru-20150930-homs-hama@1")
            expect(item.locator(".countdown")).to_have_text(re.compile(r"1[45]:\d\d left"))
            item.locator("button.ack").click()
            expect(item.get_by_test_id("acked")).to_be_visible()
            expect(item.locator("button.ack")).to_have_count(0)
            # the sender's view updates over its stream: relief acknowledged, coalition not
            expect(sent.get_by_test_id("acked-by")).to_have_count(1)
            expect(sent.get_by_test_id("acked-by")).to_contain_text("Relief office")
            expect(sent.locator(".waiting")).to_have_count(1)
            shot(sender, "ack-sender-view")
            shot(reader, "ack-reader-view")


# ---------------------------------------------------------------------- beat 3, live


def beat3_rows() -> dict[int, dict[str, dict[str, list[Any]]]]:
    out: dict[int, dict[str, dict[str, list[Any]]]] = defaultdict(dict)
    with BEAT3.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            cols = out[int(r["time"])].setdefault(r["party"], defaultdict(list))
            cols["time"].append(float(r["time"]))
            cols["id"].append(r["id"])
            for k in ("lat_deg", "lon_deg", "alt_ft", "gs_kt", "trk_deg", "vs_fpm"):
                cols[k].append(float(r[k]))
    return out


def push(server: Server, rows: dict[int, Any], seconds: range) -> None:
    """Push the scenario's states of each second and tick, as the server's clock moves."""
    live = server.app.state.runtime.live
    clients = {p: server.client(p) for p in ("coalition", "russia")}
    try:
        for t in seconds:
            server.clock.set(float(t))
            for party, cols in rows[t].items():
                r = clients[party].post("/v1/tracks", json={"states": cols})
                assert r.status_code == 200, r.text
            live.tick()
    finally:
        for c in clients.values():
            c.close()


def test_beat3_alert_appears_is_acknowledged_and_becomes_an_incident(
    browser: Browser, tmp_path: Path
) -> None:
    rows = beat3_rows()
    t0 = min(rows)
    with (
        running_server(tmp_path, t0=float(t0 + 360)) as server,
        console(browser, server, "coalition", lang="en") as (co, _),
        console(browser, server, "russia", lang="en") as (ru, _),
    ):
        push(server, rows, range(t0 + 360, t0 + 680))
        for page, own, other in ((co, "VIPER11", "RFF21"), (ru, "RFF21", "VIPER11")):
            page.bring_to_front()
            # the pair on the map with labels and trails, the alert at warning with its CPA
            expect(page.locator(f'.leaflet-marker-icon[data-aircraft="{own}"]')).to_be_visible()
            expect(page.locator(f'.leaflet-marker-icon[data-aircraft="{other}"]')).to_contain_text(
                other
            )
            expect(page.locator("path.trail-own").first).to_be_attached()
            alert = page.locator("#alerts li.alert", has_text=f"{other}").filter(has_text=own)
            expect(alert.first).to_have_attribute("data-level", "warning")
            expect(alert.first.locator(".ttl")).to_have_text(re.compile(r"^0:\d\d$"))
            expect(page.locator("path.cpa-warning").first).to_be_attached()
            expect(page.locator(".cpa-label.level-warning").first).to_contain_text("Warning")
        shot(co, "beat3-alert-coalition")
        shot(ru, "beat3-alert-russia")
        # the coalition officer acknowledges its warning from the alert panel
        alert = co.locator("#alerts li.alert", has_text="RFF21").filter(has_text="VIPER11")
        alert.locator("button.ack").click()
        expect(alert.get_by_test_id("acked")).to_be_visible()
        # ... and the Russian duty officer's view shows it on the same alert
        ru.bring_to_front()
        ru_alert = ru.locator("#alerts li.alert", has_text="RFF21").filter(has_text="VIPER11")
        expect(ru_alert.get_by_test_id("alert-acked-by")).to_contain_text("Coalition")
        shot(ru, "beat3-alert-acked-russia-view")
        tab(co, "hotline")
        acked = co.locator("#inbox li.kind-alert.has-ack")
        expect(acked).to_have_count(1)
        expect(acked.locator(".text")).to_contain_text("Conflict alert (warning)")
        # Russia's own alert message still waits for its officer; its text is in Russian
        tab(ru, "hotline")
        waiting = ru.locator("#inbox li.kind-alert").first
        expect(waiting.locator("button.ack")).to_be_visible()
        expect(waiting.locator(".text")).to_have_attribute("lang", "ru")
        # the encounter goes on: loss of separation, an incident with its report
        push(server, rows, range(t0 + 680, t0 + 780))
        for page in (co, ru):
            tab(page, "incidents")
            inc = page.locator("#incidents li.incident")
            expect(inc.first).to_contain_text("RFF21")
            expect(inc.first.locator("a.report")).to_be_visible()
        with co.expect_popup() as popup:
            co.locator("#incidents li.incident a.report").first.click()
        report = popup.value
        report.wait_for_load_state()
        expect(report.locator("h1").first).to_contain_text("Incident report")
        shot(co, "beat3-incident-coalition")


# ---------------------------------------------------------------------- languages


def test_arabic_is_right_to_left_with_translated_labels(browser: Browser, tmp_path: Path) -> None:
    ar, ru = strings("ar"), strings("ru")
    with running_server(tmp_path) as server:
        beat1(server)
        with console(browser, server, "coalition", lang="en") as (page, _):
            expect(page.locator("html")).to_have_attribute("dir", "ltr")
            page.select_option("#lang", "ar")
            expect(page.locator("html")).to_have_attribute("dir", "rtl")
            expect(page.locator("html")).to_have_attribute("lang", "ar")
            expect(page.locator('.tabs button[data-tab="alerts"]')).to_have_text(ar["tab.alerts"])
            expect(page.locator("#logout")).to_have_text(ar["login.logout"])
            # the side panel sits on the left in Arabic; the map stays left to right inside
            side = page.locator("#side").bounding_box()
            assert side is not None
            assert side["x"] < 10
            expect(page.locator("#map")).to_have_attribute("dir", "ltr")
            tab(page, "hotline")
            msg = page.locator("#inbox li.kind-notice").first
            expect(msg.locator(".kind")).to_have_text(ar["kind.notice"])
            expect(msg.locator(".time")).to_contain_text("،")  # written the Arabic way
            shot(page, "arabic-rtl")
            page.select_option("#lang", "ru")
            expect(page.locator("html")).to_have_attribute("dir", "ltr")
            expect(page.locator('.tabs button[data-tab="hotline"]')).to_have_text(ru["tab.hotline"])
            expect(msg.locator(".kind")).to_have_text(ru["kind.notice"])


def test_every_string_is_translated_into_each_language() -> None:
    en, ar, ru = strings("en"), strings("ar"), strings("ru")
    assert set(en) == set(ar) == set(ru)
    same = {"utc", "login.placeholder", "band", "alt.fl"}
    for key in set(en) - same:
        assert ar[key] != en[key], f"ar: {key} is not translated"
        assert ru[key] != en[key], f"ru: {key} is not translated"
        assert re.search("[\u0600-\u06ff]", ar[key]), f"ar: {key} has no Arabic letter"
        bare = re.sub(r"\{\w+\}|skyparley|UTC", "", ru[key])
        assert not re.search("[a-zA-Z]{3,}", bare), f"ru: {key} reads as English"


# ---------------------------------------------------------------------- filing


def lonlat_to_px(page: Page, lon: float, lat: float) -> tuple[float, float]:
    """Where a position is on the console's map (Web Mercator, its centre and zoom 7)."""
    box = page.locator("#map").bounding_box()
    assert box is not None

    def world(lo: float, la: float) -> tuple[float, float]:
        scale = 256 * 2**7
        y = math.log(math.tan(math.pi / 4 + math.radians(la) / 2))
        return (lo + 180) / 360 * scale, (1 - y / math.pi) / 2 * scale

    cx, cy = world(38.0, 35.0)
    x, y = world(lon, lat)
    return box["x"] + box["width"] / 2 + (x - cx), box["y"] + box["height"] / 2 + (y - cy)


def test_filing_a_notice_shows_its_findings_before_submitting(
    browser: Browser, tmp_path: Path
) -> None:
    with running_server(tmp_path) as server:
        beat1(server)
        with console(browser, server, "russia", lang="en") as (page, _):
            tab(page, "notices")
            expect(page.locator("#notices li")).to_have_count(1)
            tab(page, "file")
            page.click("#draw-start")
            click: Callable[[float, float], None] = lambda lo, la: page.mouse.click(  # noqa: E731
                *lonlat_to_px(page, lo, la)
            )
            for lon, lat in ((36.5, 35.0), (37.1, 35.0), (37.1, 35.4), (36.5, 35.4)):
                click(lon, lat)
            expect(page.get_by_test_id("draw-status")).to_contain_text("4")
            page.click("#draw-finish")
            expect(page.locator("path.draft").first).to_be_attached()
            page.fill("#lower", "150")
            page.fill("#upper", "250")
            page.fill("#start", "2015-09-30T10:00")
            page.fill("#end", "2015-09-30T12:00")
            expect(page.locator("#submit")).to_be_disabled()  # not before a check
            page.click("#check")
            # the hospital's overlap (only) is shown before anything is filed
            findings = page.get_by_test_id("check-findings").locator("li")
            expect(findings).to_have_count(1)
            expect(findings.first).to_have_attribute("class", re.compile("kind-protected_area"))
            expect(findings.first).to_contain_text("FL145\u2013FL255")
            expect(page.locator("path.check-overlap")).to_have_count(1)
            with server.client("russia") as c:
                assert len(c.get("/v1/notices").json()) == 1, "a check files nothing"
            shot(page, "file-check")
            # an edit makes the check stale: its list and overlaps go, filing waits for a new one
            page.fill("#remark", "edited after the check")
            expect(page.get_by_test_id("check-findings")).to_have_count(0)
            expect(page.locator("path.check-overlap")).to_have_count(0)
            expect(page.locator("#submit")).to_be_disabled()
            page.click("#check")
            expect(page.get_by_test_id("check-findings").locator("li")).to_have_count(1)
            page.click("#submit")
            expect(page.get_by_test_id("check-result")).to_have_attribute(
                "data-filed", re.compile("^russia-console-")
            )
            tab(page, "notices")
            expect(page.locator("#notices li")).to_have_count(2)
            with server.client("russia") as c:
                filed = [n for n in c.get("/v1/notices").json() if "console" in n["notice"]["id"]]
            (notice,) = filed
            vol = notice["notice"]["volumes"][0]
            assert (vol["lower"], vol["upper"]) == (15000, 25000)
            assert vol["start"] == "2015-09-30T10:00:00Z"
            assert vol["area"]["type"] == "Polygon"
            shot(page, "file-filed")


def test_a_circle_and_a_corridor_can_be_drawn(browser: Browser, tmp_path: Path) -> None:
    with (
        running_server(tmp_path) as server,
        console(browser, server, "coalition", lang="en") as (
            page,
            _,
        ),
    ):
        tab(page, "file")
        page.check('input[name="shape"][value="circle"]')
        page.click("#draw-start")
        page.mouse.click(*lonlat_to_px(page, 36.0, 36.6))  # west of the Euphrates line
        page.mouse.click(*lonlat_to_px(page, 36.2, 36.6))
        expect(page.locator("#radius")).to_have_value(re.compile(r"^9\.\d$|^10(\.\d)?$"))
        page.click("#check")
        expect(page.get_by_test_id("check-clear")).to_be_visible()
        page.check('input[name="shape"][value="corridor"]')
        page.click("#draw-start")
        for lon, lat in ((38.0, 34.0), (38.5, 34.2), (39.0, 34.1)):
            page.mouse.click(*lonlat_to_px(page, lon, lat))
        page.click("#draw-finish")
        page.fill("#width", "8")
        page.click("#check")
        expect(page.get_by_test_id("check-result")).to_be_visible()
        expect(page.get_by_test_id("file-error")).to_have_text("")
        shot(page, "file-corridor")


def test_a_zone_finding_reads_as_the_zone_s_rule_and_name(browser: Browser, tmp_path: Path) -> None:
    """A zone rule's finding showed its raw key (finding.zone_notice) and the zone's id."""
    with running_server(tmp_path) as server:
        notice = load("beat2-coalition-raqqa.json")
        notice["volumes"][0]["area"]["center"] = [40.6, 35.2]  # east of the Euphrates line
        with server.client("coalition") as c:
            assert c.post("/v1/notices", json={"notice": notice}).status_code == 201
        with console(browser, server, "coalition", lang="ru") as (page, _):
            tab(page, "notices")
            item = page.locator("#findings li.kind-zone_notice")
            expect(item).to_have_count(1)
            head = item.locator(".row")  # the detail below stays as the service wrote it
            expect(head).to_contain_text(strings("ru")["finding.zone_notice"])
            expect(head).to_contain_text("Euphrates line (2017 arrangement)")
            expect(head).not_to_contain_text("finding.zone")
            expect(head).not_to_contain_text("euphrates-line")


def test_the_zone_owner_s_copy_of_a_zone_finding_names_the_filing_party(
    browser: Browser, tmp_path: Path
) -> None:
    """Al-Tanf is coalition's: russia's notice there within 24 h gives coalition a zone
    finding whose other side is russia (it showed the raw id 'russia')."""
    with running_server(tmp_path) as server:
        notice = load("beat1-russia-homs-hama.json")
        notice["id"] = "ru-tanf"
        area = {"type": "Circle", "center": [38.66, 33.49], "radius_nm": 5}
        notice["volumes"] = [notice["volumes"][0] | {"area": area}]
        with server.client("russia") as c:
            assert c.post("/v1/notices", json={"notice": notice}).status_code == 201
        with console(browser, server, "coalition", lang="ru") as (page, _):
            tab(page, "notices")
            head = page.locator("#findings li.kind-zone_notice .row")
            expect(head).to_contain_text(strings("ru")["party.russia"])
            expect(head).not_to_contain_text("russia")


def test_a_token_revoked_while_the_console_is_open_says_so_at_the_login(
    browser: Browser, tmp_path: Path
) -> None:
    """The page went back to the login form with no word; now it says the token stopped
    working."""
    with running_server(tmp_path) as server:
        with server.client("coalition", "admin") as c:
            made = c.post("/v1/tokens", json={"role": "operator"}).json()
        ctx = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        ctx.set_default_timeout(WAIT_MS)
        try:
            page = ctx.new_page()
            page.goto(server.url + "/")
            page.fill("#token", made["token"])
            page.click("#login-form button[type=submit]")
            expect(page.locator("#conn")).to_have_attribute("data-state", "live")
            with server.client("coalition", "admin") as c:
                assert c.delete(f"/v1/tokens/{made['id']}").status_code == 200
            expect(page.locator("#login-form")).to_be_visible()
            expect(page.locator("#login-error")).to_have_text(strings("en")["login.bad"])
        finally:
            ctx.close()


def test_a_viewer_is_not_offered_to_acknowledge_or_to_file(
    browser: Browser, tmp_path: Path
) -> None:
    """A viewer token got the Acknowledge buttons and the File tab, and a dialog blocking
    the page when it used them."""
    with running_server(tmp_path) as server:
        with server.client("russia") as c:
            r = c.post("/v1/notices", json={"notice": load("beat1-russia-homs-hama.json")})
            assert r.status_code == 201, r.text
        with server.client("coalition", "viewer") as c:
            assert c.get("/v1/ledger/head").json()["role"] == "viewer"
        ctx = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        ctx.set_default_timeout(WAIT_MS)
        try:
            page = ctx.new_page()
            page.goto(server.url + "/")
            page.fill("#token", server.token("coalition", "viewer"))
            page.click("#login-form button[type=submit]")
            expect(page.locator("#conn")).to_have_attribute("data-state", "live")
            expect(page.locator('.tabs button[data-tab="file"]')).to_be_hidden()
            tab(page, "hotline")
            expect(page.get_by_test_id("ack-waiting").first).to_have_text(
                strings("en")["msg.viewerNoAck"]
            )
            expect(page.locator("button.ack")).to_have_count(0)
        finally:
            ctx.close()
