"""A participant running the stock membrane-webrtc-js client (tests/stock_client/room.ts)."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
STOCK_CLIENT = ROOT / "tests" / "stock_client"
VERSIONS = ["0.5.3", "0.7.1"]

# A same-origin document of the server to run the bundle in. A page fulfilled by a
# Playwright route has no address space, so Chromium's Local Network Access checks would
# block its websocket to 127.0.0.1 (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS).
HOST_PATH = "/healthz"


def build_bundles() -> Path:
    """tests/stock_client/dist/room-<version>.js, built from the pinned npm packages."""
    if not (STOCK_CLIENT / "node_modules" / "membrane-webrtc-js-0.7.1").is_dir():
        raise RuntimeError("run `npm ci` in tests/stock_client (scripts/test.sh does it)")
    subprocess.run(["npm", "run", "--silent", "build"], cwd=STOCK_CLIENT, check=True, timeout=120)
    return STOCK_CLIENT / "dist"


@dataclass
class StockParticipant:
    name: str
    context: BrowserContext
    page: Page

    def observed(self) -> dict[str, Any]:
        result: dict[str, Any] = self.page.evaluate(
            "() => { const o = window.stock?.observed; if (!o) return {};"
            " const { connections, ...rest } = o; return JSON.parse(JSON.stringify(rest)); }"
        )
        return result

    def inbound(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.page.evaluate("() => window.stock?.inbound() ?? []")
        return result

    def selected_local_candidate(self) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.page.evaluate(
            "() => window.stock?.selectedLocalCandidate() ?? null"
        )
        return result

    def leave(self) -> None:
        self.page.evaluate("() => window.stock.leave()")

    def close(self) -> None:
        self.context.close()


def open_stock(
    browser: Browser, base_url: str, dist: Path, version: str, room: str, name: str, meta: str
) -> StockParticipant:
    """Run the stock bundle for ``version`` in a document of the server (same origin)."""
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.goto(f"{HOST_PATH}?room={room}&name={name}&meta={meta}")
    page.add_script_tag(content=(dist / f"room-{version}.js").read_text())
    return StockParticipant(name, context, page)


def wait_rising(
    read: Any, kind: str, field: str, streams: int, what: str, timeout_s: float = 45.0
) -> int:
    """Until ``streams`` inbound ``kind`` streams have ``field`` > 0 and the total keeps rising."""
    deadline = time.monotonic() + timeout_s
    while True:
        live = [s for s in read() if s["kind"] == kind and s[field] > 0]
        if len(live) >= streams:
            before = sum(s[field] for s in live)
            time.sleep(1.5)
            after = sum(s[field] for s in read() if s["kind"] == kind)
            if after > before:
                return after
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{what}: {kind} {field} not rising on {streams} streams: {read()}"
            )
        time.sleep(0.5)
