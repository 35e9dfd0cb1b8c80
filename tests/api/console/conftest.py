"""The console under test: the seeded console fleet (`tests.support.console` has the seeding and the sign-in
helpers)."""

from __future__ import annotations

import pytest

from models.db import Connection
from tests.support.console import SCREENSHOTS, seed_console
from tests.support.fleet import Fleet


@pytest.fixture
def console_fleet(conn: Connection) -> Fleet:
    """The console's fleet, committed."""
    fleet = seed_console(conn)
    conn.commit()
    return fleet


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Name the screenshot folder, when the browser tests ran."""
    folder = config.stash.get(SCREENSHOTS, None)
    if folder is not None:
        terminalreporter.write_line(f"console screenshots: {folder}")
