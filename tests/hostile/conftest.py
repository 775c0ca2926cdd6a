"""Fixtures of the hostile-peer suite: the daphne under attack and everyone who talks to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import pytest

from rooms.limits import Limits
from tests.hostile.peers import Peers, peers_on
from tests.hostile.server import hostile_daphne
from tests.support.daphne import DaphneServer

Attacked = tuple[DaphneServer, Limits]


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Attacked]:
    """One daphne (embedded worker) for the module, with the test limits (server.py)."""
    with hostile_daphne(tmp_path_factory.mktemp("hostile")) as running:
        yield running


@pytest.fixture
def server(attacked: Attacked) -> DaphneServer:
    return attacked[0]


@pytest.fixture
def limits(attacked: Attacked) -> Limits:
    """The bounds the server runs with, read from its environment."""
    return attacked[1]


@pytest.fixture
async def peers(request: pytest.FixtureRequest, attacked: Attacked) -> AsyncIterator[Peers]:
    """Sockets and media bots against the module's daphne, all closed after the test."""
    async with peers_on(*attacked) as everyone:
        yield everyone
    _print_log_on_failure(request, attacked[0])


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Attacked]:
    """A daphne of its own, for a test that measures the process itself (RSS)."""
    with hostile_daphne(tmp_path) as running:
        yield running


@pytest.fixture
async def own_peers(request: pytest.FixtureRequest, own_server: Attacked) -> AsyncIterator[Peers]:
    async with peers_on(*own_server) as everyone:
        yield everyone
    _print_log_on_failure(request, own_server[0])


def _print_log_on_failure(request: pytest.FixtureRequest, server: DaphneServer) -> None:
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        print(f"\n----- daphne log ({server.log_path}) -----\n{server.log()}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
