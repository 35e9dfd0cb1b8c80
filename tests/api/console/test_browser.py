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
from models.access.tenancy import Role
from models.db import Connection
from runtime.settings import Settings
from stack.mosquitto import LocalMosquitto
from tests.support.console import SCREENSHOTS
from tests.support.fleet import Fleet

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
