"""``python -m bench.worker_launcher``: ``manage.py roomworker`` with bench-only variations.

--transcode   the baseline: aiortc's default relay. Received tracks are decoded (the
              forwarding tap is not applied) and every subscriber's sender re-encodes
              the frames it gets from a ``MediaRelay`` (buffered=False), as in aiortc's
              examples/server. Signalling, ICE and the Room are this project's, unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import Any


class RelayPublication:
    """Stands in for rooms.sfu.forwarding.Publication: decoded frames fanned out by MediaRelay."""

    def __init__(
        self, track_id: str, kind: str, send_pli: Any, *, endpoint_id: str = "", label: str = ""
    ) -> None:
        from aiortc.contrib.media import MediaRelay

        self.track_id = track_id
        self.kind = kind
        self.endpoint_id = endpoint_id
        self._source: Any = None
        self._relay = MediaRelay()
        self._drain: asyncio.Task[None] | None = None

    def start(self, receiver: Any) -> None:
        # Read from the start: an unread RemoteStreamTrack queues decoded frames without bound.
        if self._drain is None:
            self._source = receiver.track
            self._drain = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        from aiortc.mediastreams import MediaStreamError

        proxy = self._relay.subscribe(self._source, buffered=False)
        with contextlib.suppress(MediaStreamError):
            while True:
                await proxy.recv()

    def relay_track(self) -> Any:
        """A MediaRelay proxy of the decoded track, for one subscriber's encoder."""
        return self._relay.subscribe(self._source, buffered=False)

    def request_keyframe(self) -> None:
        """Each subscriber has its own encoder, which starts on a keyframe: nothing to relay."""

    def on_voice_activity(self, callback: Any) -> None:
        """The baseline reads no audio levels: it never reports who speaks."""

    async def close(self) -> None:
        if self._drain is not None:
            self._drain.cancel()
            await asyncio.gather(self._drain, return_exceptions=True)
            self._drain = None


class RelayOutlet:
    """Stands in for rooms.sfu.subscription.Outlet: the sender keeps aiortc's RTP loop and encoder."""

    def __init__(self, sender: Any, *, label: str = "") -> None:
        self._sender = sender
        self._track: Any = None

    def feed(self, publication: RelayPublication) -> Any:
        self.stop()
        self._track = publication.relay_track()
        self._sender.replaceTrack(self._track)
        return self._track

    def stop(self) -> None:
        if self._track is not None:
            self._track.stop()
            self._track = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transcode", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "videoroom_project.settings")
    import django

    django.setup()
    import rooms.sfu.endpoint as endpoint

    if args.transcode:
        endpoint.Publication = RelayPublication  # type: ignore[misc,assignment]
        endpoint.Outlet = RelayOutlet  # type: ignore[misc,assignment]
    from django.core.management import call_command

    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    call_command("roomworker")


if __name__ == "__main__":
    main()
