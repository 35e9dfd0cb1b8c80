"""The console in a real browser: Debian's chromium, headless, driven by Playwright through its executable path.

One browser for all of them; each test gets its own database, a live server on a free port and a fresh browser
context (its own cookies). Screenshots go to a temporary folder named at the end of the run.
"""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from api.app import create_app
from brain.jobs import quality
from models.access.tenancy import Role
from models.db import Connection
from runtime.settings import Settings
from stack.mosquitto import LocalMosquitto
from tests.support.console import SCREENSHOTS
from tests.support.fleet import Fleet
from tests.support.quality import AS_OF, COUNTERS_SINCE, QualityFleet, seed_brakes

# The slow tier (a real browser): `scripts/check.sh --fast` leaves it out.
pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
# A phone in portrait (CSS pixels of a common 6-inch handset).
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The server answers within a second here; the bound only stops a broken start from hanging the run.
SERVER_START_S = 20


@pytest.fixture(scope="session")
def screenshots(request: pytest.FixtureRequest) -> Path:
    """A folder for the run's screenshots, kept and named in the run's summary so a person can look at them."""
    folder = Path(tempfile.mkdtemp(prefix="liftbrain-console-screens-"))
    request.config.stash[SCREENSHOTS] = folder
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless chromium, launched once for all the browser tests (they are all in this module).

    Not session-wide: Playwright's sync API leaves its event loop registered as running on the main thread
    until it stops, and later tests that call asyncio.run() there would fail."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is missing: scripts/setup.sh --dev installs it")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def base_url(database_url: str, mosquitto: LocalMosquitto, console_fleet: Fleet) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, for the test's database."""
    app = create_app(Settings(database_url=database_url, mqtt_url=mosquitto.url))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_S
    while not server.started:
        assert time.monotonic() < deadline, "the console server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join()
    sock.close()


@pytest.fixture
def sign_in(browser: Browser, base_url: str) -> Iterator[Callable[[str, dict[str, int]], Page]]:
    """Sign in through the form by keyboard (type the key, press Enter) in a fresh context, closed afterwards."""
    contexts: list[BrowserContext] = []

    def signed_in(key: str, viewport: dict[str, int]) -> Page:
        context = browser.new_context(viewport=viewport, base_url=base_url)  # type: ignore[arg-type]
        contexts.append(context)
        page = context.new_page()
        page.goto("/console/sign-in")
        expect(page.get_by_label("API key")).to_be_focused()
        page.keyboard.type(key)
        page.keyboard.press("Enter")
        expect(page).not_to_have_url(re.compile(r"/sign-in$"))  # signed in and sent home
        return page

    yield signed_in
    for context in contexts:
        context.close()


SignIn = Callable[[str, dict[str, int]], Page]


@pytest.mark.parametrize(
    ("role", "landing"),
    [(Role.ADMIN, "Fleet"), (Role.MANUFACTURER, "Fleet"), (Role.MAINTAINER, "Fleet"), (Role.CREW, "Work orders")],
)
def test_each_role_signs_in_and_walks_the_pages(
    sign_in: SignIn, console_fleet: Fleet, screenshots: Path, role: Role, landing: str
) -> None:
    page = sign_in(console_fleet.keys[role], DESKTOP)
    expect(page.get_by_role("heading", level=1)).to_have_text(landing)
    page.screenshot(path=screenshots / f"{role}-home.png", full_page=True)
    page.get_by_role("link", name="Fleet", exact=True).click()
    board = page.locator("#board")
    expect(board.get_by_role("link", name="A1", exact=True)).to_be_visible()
    expect(board.get_by_role("link", name="B1", exact=True)).to_have_count(1 if role is Role.ADMIN else 0)
    board.get_by_role("link", name="A1", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Unit A1")
    expect(page.locator("figure.chart svg")).to_have_count(5)
    page.get_by_role("link", name="History of brake").click()  # htmx loads the genealogy in place
    expect(page.locator("#genealogy")).to_contain_text("BR-1")
    page.screenshot(path=screenshots / f"{role}-unit.png", full_page=True)


def test_the_fleet_board_refreshes_itself(
    sign_in: SignIn, conn: Connection, console_fleet: Fleet, screenshots: Path
) -> None:
    page = sign_in(console_fleet.keys[Role.ADMIN], DESKTOP)
    online = page.locator("#board .summary div", has_text="Online").locator("dd")
    expect(online).to_have_text("1")
    page.locator("#unit-A1").focus()  # a keyboard user on the board keeps their place through refreshes
    conn.execute("UPDATE units SET online = true WHERE id = 'B1'")
    conn.commit()
    # What the poll does every REFRESH_S, asked for now: the board swaps in the server's fragment.
    page.evaluate(
        "htmx.ajax('GET', document.querySelector('#board').getAttribute('hx-get'), "
        "{target: '#board', swap: 'outerHTML'})"
    )
    expect(online).to_have_text("2")
    expect(page.locator("#unit-A1")).to_be_focused()
    page.screenshot(path=screenshots / "fleet-refreshed.png", full_page=True)


def test_crew_completes_a_work_order_on_a_phone(
    sign_in: SignIn, conn: Connection, console_fleet: Fleet, screenshots: Path
) -> None:
    page = sign_in(console_fleet.keys[Role.CREW], PHONE)
    page.get_by_role("link", name="door fault").click()
    page.get_by_role("button", name="Start work").click()
    expect(page.locator("#status")).to_have_text("in progress")
    page.get_by_label("Doors, door locks and door contacts checked").check()
    page.get_by_label("Test run, empty and loaded").check()
    page.get_by_label("What was found and done").fill("Door contact cleaned and adjusted; brake swapped.")
    page.get_by_label("Position").select_option("brake")
    page.get_by_label("Serial of the part put in").fill("BR-2")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    page.screenshot(path=screenshots / "crew-phone-form.png", full_page=True)
    page.get_by_role("button", name="Complete work order").click()
    expect(page.locator("#status")).to_have_text("done")
    expect(page.get_by_role("status")).to_contain_text("Work done")
    page.screenshot(path=screenshots / "crew-phone-done.png", full_page=True)
    kinds = conn.execute(
        "SELECT kind FROM lifecycle_records WHERE work_order_id = %s ORDER BY seq", (console_fleet.ids["wo_a"],)
    ).fetchall()
    assert [r["kind"] for r in kinds] == ["part_replacement", "repair"]


def test_other_tenant_csrf_and_sign_out(sign_in: SignIn, console_fleet: Fleet, screenshots: Path) -> None:
    page = sign_in(console_fleet.keys[Role.MAINTAINER], DESKTOP)
    response = page.goto("/console/units/B1")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    page.screenshot(path=screenshots / "other-tenant-unit.png")
    order = console_fleet.ids["wo_a"]
    forged = page.request.post(f"/console/work-orders/{order}/start", form={"version": "2"})
    assert forged.status == 403  # the session cookie alone is not enough
    page.goto("/console/fleet")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.goto("/console/fleet")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


# The main menu each role gets, in order (api.console.pages.NAV filtered by the role's scopes).
MENUS = {
    Role.ADMIN: ["Fleet", "Work orders", "Alarms", "Quality", "Compliance"],
    Role.MANUFACTURER: ["Fleet", "Alarms", "Quality"],
    Role.MAINTAINER: ["Fleet", "Work orders", "Alarms"],
    Role.CREW: ["Fleet", "Work orders", "Alarms"],
    Role.SUPPLIER: ["Quality"],
    Role.REGULATOR: ["Fleet", "Quality", "Compliance"],
}
# Tab presses allowed to reach a link: the header holds the skip link, the brand and a handful of menu entries.
MAX_TABS = 15


@pytest.fixture
def brakes(conn: Connection, console_fleet: Fleet) -> QualityFleet:
    """The brake fleet (suppliers, a regulator) on the console's, with the quality job run over it."""
    seeded = seed_brakes(conn, console_fleet)
    quality.run(conn, now=AS_OF, counters_since=COUNTERS_SINCE)
    conn.commit()
    return seeded


def _key(role: Role, fleet: Fleet, brakes: QualityFleet) -> str:
    return {Role.SUPPLIER: brakes.keys["BAD"], Role.REGULATOR: brakes.keys["regulator"]}.get(role) or fleet.keys[role]


def _tab_to(page: Page, name: str) -> None:
    """Move keyboard focus to the link named `name` with Tab alone, from the top of the page."""
    page.locator("body").focus()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == name:
            return
    raise AssertionError(f"{name} is not reachable by keyboard within {MAX_TABS} tabs")


@pytest.mark.parametrize("role", list(MENUS))
def test_each_role_reaches_its_pages_by_keyboard(
    sign_in: SignIn, console_fleet: Fleet, brakes: QualityFleet, screenshots: Path, role: Role
) -> None:
    page = sign_in(_key(role, console_fleet, brakes), DESKTOP)
    menu = page.get_by_role("navigation", name="Main").get_by_role("link")
    expect(menu).to_have_text(MENUS[role])
    for name in MENUS[role]:
        _tab_to(page, name)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        expect(page.get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")
        page.screenshot(path=screenshots / f"{role}-{name.lower().replace(' ', '-')}.png", full_page=True)


def test_maintainer_acknowledges_and_comments_on_an_alarm(
    sign_in: SignIn, conn: Connection, console_fleet: Fleet, screenshots: Path
) -> None:
    page = sign_in(console_fleet.keys[Role.MAINTAINER], DESKTOP)
    _tab_to(page, "Alarms")
    page.keyboard.press("Enter")
    page.locator("#alarm-list").get_by_role("link", name="door close fault").click()
    page.get_by_label("Note (optional)").fill("crew on the way")
    page.get_by_role("button", name="Acknowledge alarm").click()
    expect(page.locator("#alarm-state")).to_have_text("acknowledged")
    page.get_by_label("Your comment").fill("door contact dirty, cleaning it")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#alarm-history")).to_contain_text("door contact dirty, cleaning it")
    expect(page.locator("#alarm-history")).to_contain_text("crew on the way")
    page.screenshot(path=screenshots / "maintainer-alarm.png", full_page=True)
    row = conn.execute("SELECT state, version FROM alarms WHERE alarm_type = 'door_close_fault'").fetchone()
    conn.commit()
    assert row is not None
    assert (row["state"], row["version"]) == ("acknowledged", 3)


def test_supplier_cannot_open_another_suppliers_batch(
    sign_in: SignIn, console_fleet: Fleet, brakes: QualityFleet, screenshots: Path
) -> None:
    page = sign_in(brakes.keys["BAD"], DESKTOP)
    expect(page.get_by_role("heading", level=1)).to_have_text("Quality")
    page.get_by_role("link", name="BAD", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Batch BAD")
    expect(page.get_by_role("img", name=re.compile("Weibull"))).to_be_visible()
    # The plot really loaded and decoded (matplotlib draws it on request: wait for it, not for a fixed time).
    page.wait_for_function(
        "() => { const i = document.querySelector('.plots img'); return i.complete && i.naturalWidth > 0; }"
    )
    page.screenshot(path=screenshots / "supplier-batch.png", full_page=True)
    response = page.goto(f"/console/quality/batches/{brakes.batches['GOOD']}")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")


def test_regulator_is_read_only(sign_in: SignIn, console_fleet: Fleet, brakes: QualityFleet, screenshots: Path) -> None:
    page = sign_in(brakes.keys["regulator"], DESKTOP)
    expect(page.get_by_role("heading", level=1)).to_have_text("Compliance")
    expect(page.locator("#overdue-csv")).to_have_attribute("href", "/console/compliance/overdue.csv")
    with page.expect_download() as download:
        page.locator("#overdue-csv").click()
    assert download.value.suggested_filename == "overdue-units.csv"
    page.screenshot(path=screenshots / "regulator-compliance.png", full_page=True)
    page.goto("/console/units/A1")
    expect(page.locator("main form[method='post']")).to_have_count(0)
    expect(page.locator("#health-heading")).to_have_count(0)
