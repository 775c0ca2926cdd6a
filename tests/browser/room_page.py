"""Driving the room and home pages in headless Chromium: joining, reading tiles and stats."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

# Flags shown to work with Debian's chromium (see the feasibility note): fake camera and
# microphone, no permission prompts, raw IP candidates instead of mDNS names, no throttling
# of background pages (several participants share one browser).
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]

# Generous: two cores shared by the browser, daphne, the worker and other test runs.
MEDIA_TIMEOUT_MS = 45_000
UI_TIMEOUT_MS = 20_000

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

INBOUND_STATS_JS = """
async () => {
  const pc = window.videoroom?.visit?.client.connection;
  if (!pc) return [];
  const stats = await pc.getStats();
  const result = [];
  stats.forEach((s) => {
    if (s.type === "inbound-rtp") {
      result.push({ kind: s.kind, mid: s.mid ?? null, framesDecoded: s.framesDecoded ?? 0,
                    packetsReceived: s.packetsReceived ?? 0 });
    }
  });
  return result;
}
"""

REMOTE_TILES_PLAYING_JS = """
(names) => names.every((name) => [...document.querySelectorAll('.tile[data-self="false"][data-kind="camera"]')]
  .some((tile) => tile.querySelector('.tile-label').textContent === name
                  && tile.querySelector('video').videoWidth > 0))
"""

# Media is back after a recovery once a peer connection other than the one set aside
# by MARK_CONNECTION_JS is connected, decodes video and every named tile plays it.
MARK_CONNECTION_JS = (
    "() => { window.__connectionBefore = window.videoroom?.visit?.client.connection; }"
)
MEDIA_BACK_JS = f"""
async (names) => {{
  const pc = window.videoroom?.visit?.client.connection;
  if (!pc || pc === window.__connectionBefore) return false;
  if (document.body.dataset.roomStatus !== 'connected') return false;
  const stats = await pc.getStats();
  let frames = 0;
  stats.forEach((s) => {{ if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0; }});
  return frames > 0 && ({REMOTE_TILES_PLAYING_JS})(names);
}}
"""

TILE_JS = """
(label) => {
  const tile = [...document.querySelectorAll('.tile')]
    .find((t) => t.querySelector('.tile-label').textContent === label);
  if (!tile) return null;
  const video = tile.querySelector('video');
  return { key: tile.dataset.tileKey, kind: tile.dataset.kind, self: tile.dataset.self === 'true',
           micMuted: tile.dataset.micMuted === 'true', cameraOff: tile.dataset.cameraOff === 'true',
           speaking: tile.dataset.speaking === 'true', pinned: tile.classList.contains('pinned'),
           videoWidth: video.videoWidth };
}
"""


@dataclass
class Participant:
    """One person in a room: a browser context with the room page open."""

    name: str
    context: BrowserContext
    page: Page
    sent_frames: list[str]

    def status(self) -> str:
        return str(self.page.evaluate("() => document.body.dataset.roomStatus ?? ''"))

    def tile(self, label: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.page.evaluate(TILE_JS, label)
        return result

    def tile_labels(self) -> list[str]:
        labels: list[str] = self.page.locator(".tile .tile-label").all_text_contents()
        return labels

    def inbound(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.page.evaluate(INBOUND_STATS_JS)
        return result

    def frames_decoded(self) -> int:
        return sum(s["framesDecoded"] for s in self.inbound() if s["kind"] == "video")

    def wait_for_videos_from(self, names: list[str], timeout_ms: int = MEDIA_TIMEOUT_MS) -> None:
        """Until every named participant's camera tile plays video (videoWidth > 0)."""
        self.page.wait_for_function(REMOTE_TILES_PLAYING_JS, arg=names, timeout=timeout_ms)

    def mark_connection(self) -> None:
        """Set the current peer connection aside: ``media_back`` wants a new one."""
        self.page.evaluate(MARK_CONNECTION_JS)

    def media_back(self, names: list[str]) -> bool:
        """Video from every named participant decodes on a connection made since the mark."""
        return bool(self.page.evaluate(MEDIA_BACK_JS, names))

    def wait_for_status(self, status: str, timeout_ms: int = MEDIA_TIMEOUT_MS) -> None:
        self.page.wait_for_function(
            "(s) => document.body.dataset.roomStatus === s", arg=status, timeout=timeout_ms
        )

    def wait_for_tile(
        self, label: str, predicate_js: str = "t => true", timeout_ms: int = UI_TIMEOUT_MS
    ) -> None:
        """Until the tile labelled `label` exists and `predicate_js` holds for its TILE_JS view."""
        self.page.wait_for_function(
            f"(label) => {{ const t = ({TILE_JS})(label); return t !== null && ({predicate_js})(t); }}",
            arg=label,
            timeout=timeout_ms,
        )

    def wait_for_no_tile(self, label: str, timeout_ms: int = UI_TIMEOUT_MS) -> None:
        self.page.wait_for_function(
            "(label) => ![...document.querySelectorAll('.tile .tile-label')].some((l) => l.textContent === label)",
            arg=label,
            timeout=timeout_ms,
        )

    def joins_sent(self) -> int:
        """phx_join frames this page's websockets sent (the first join and every rejoin)."""
        return sum(1 for frame in self.sent_frames if '"phx_join"' in frame)

    def close(self) -> None:
        self.context.close()


DESKTOP: ViewportSize = {"width": 1280, "height": 720}
PHONE: ViewportSize = {"width": 390, "height": 844}


def new_context(
    browser: Browser,
    base_url: str,
    init_script: str | None = None,
    viewport: ViewportSize | None = None,
) -> BrowserContext:
    context = browser.new_context(base_url=base_url, viewport=viewport or DESKTOP)
    if init_script:
        context.add_init_script(init_script)
    return context


def join_room(
    browser: Browser,
    base_url: str,
    room: str,
    name: str,
    *,
    init_script: str | None = None,
    viewport: ViewportSize | None = None,
    query: str = "",
    fragment: str = "",
) -> Participant:
    """Opens /room/<room>[?query][#fragment] directly (a join token may ride in either),
    types the display name and joins."""
    context = new_context(browser, base_url, init_script, viewport)
    page = context.new_page()
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    page.goto(f"/room/{room}{'?' + query if query else ''}{'#' + fragment if fragment else ''}")
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join room").click()
    return Participant(name, context, page, sent)
