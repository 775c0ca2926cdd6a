"""The participation recorder: the one way a room worker writes participation history.

Hosts hand it joins, leaves, moderator actions and dangling cleanups and go on at once: a join is
answered before its row exists. Records are written one at a time, in the order
they were handed over, from one thread of the recorder's own:

- order: one FIFO for the whole worker, so a peer's leave is never written before
  its join, and a room's dangling cleanup (queued when its host claims the room,
  before any of its joins) never closes a stay of the new room;
- SQLite: it allows one writer at a time, and one thread per worker process is
  one writer here; other processes' writers wait on the busy timeout (settings);
- the event loop and other rooms never wait on the database, and the web side's
  reads do not queue behind these writes in asgiref's one shared sync thread.

A database that cannot be reached (``OperationalError``, ``InterfaceError``: the
server is down or restarting, the connection broke, SQLite is locked past its busy
timeout) loses no record: the write at the head of the queue is retried with backoff
(0.2 s doubling to 5 s) until the database answers, while later records wait behind
it in order, up to the backlog; the outage is logged once when it starts and once
when it ends. Any other error (a record the database refuses) is retried a few
times, then that record is dropped with one log line: the history is worth less than
the live room, and one bad record must not hold up the others. (SQLite also reports
a missing table as ``OperationalError``: an unmigrated database is retried, with its
one warning, and the backlog bounds what waits.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.db import InterfaceError, OperationalError, close_old_connections, connections

from rooms import services
from rooms.logtext import clip
from rooms.messages import JoinRefusal, RemovalReason
from rooms.moderation import ModerationRecord
from rooms.roomtypes import PeerInfo
from rooms.tasks import describe, spawn

logger = logging.getLogger(__name__)

# Attempts at a record the database refuses (not an outage), waiting 0.2, 0.4, 0.8 s.
ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 0.2
# The longest wait between attempts while the database is unreachable: a restarted
# database is written to at most this long after it is back.
MAX_BACKOFF_SECONDS = 5.0
# What an unreachable or locked database raises; retried until it answers.
OUTAGE_ERRORS = (OperationalError, InterfaceError)
# stop() writes what is queued within this bound, then drops the rest with a log line.
DRAIN_SECONDS = 5.0


class ParticipationStore(Protocol):
    """The writes, run in the recorder's thread; rooms.services by default."""

    def record_join(
        self, room_name: str, peer_id: str, display_name: str, joined_at: datetime, identity: str
    ) -> None: ...

    def record_leave(self, room_name: str, peer_id: str, reason: RemovalReason) -> None: ...

    def record_refusal(
        self, room_name: str, peer_id: str, display_name: str, reason: JoinRefusal
    ) -> None: ...

    def close_dangling_participations(self, room_name: str) -> int: ...

    def record_moderation(self, record: ModerationRecord) -> None: ...


@dataclass(frozen=True)
class _Record:
    what: str  # "join", "leave", "moderation" or "cleanup", for log lines
    room: str
    peer_id: str
    write: Callable[[], object]


class ParticipationRecorder:
    """Writes participation records in order, off the event loop; owned by one RoomWorker.

    ``start`` and ``stop`` run on the worker's loop, as do the recording methods,
    which never block.
    """

    def __init__(
        self,
        *,
        backlog: int,
        store: ParticipationStore | None = None,
        attempts: int = ATTEMPTS,
        first_backoff: float = FIRST_BACKOFF_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
    ) -> None:
        self._backlog = backlog
        self._store: ParticipationStore = store if store is not None else services
        self._attempts = attempts
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._outage_since: float | None = None  # time.monotonic() of the first failed write
        self._queue: asyncio.Queue[_Record] = asyncio.Queue()
        self._dropped = 0
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="participation-recorder")
        self._task = spawn(self._run(), name="participation-recorder")

    async def flush(self) -> None:
        """Wait until every record handed over so far is written (or given up)."""
        await self._queue.join()

    async def stop(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Write what is queued (within ``drain_seconds``), then end the task and the thread."""
        if self._task is None or self._executor is None:
            return
        try:
            await asyncio.wait_for(self.flush(), drain_seconds)
        except TimeoutError:
            logger.error(
                "participation recorder: %s records not written before shutdown",
                self._queue.qsize(),
            )
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        executor, self._executor = self._executor, None
        # The thread's own connection is closed in the thread, then the thread ends.
        try:
            await asyncio.wait_for(
                asyncio.get_running_loop().run_in_executor(executor, connections.close_all),
                drain_seconds,
            )
        except Exception:
            logger.exception("participation recorder: could not close its connection")
        executor.shutdown(wait=False)

    # --- what hosts record -------------------------------------------------------------

    def joined(self, room: str, peer: PeerInfo) -> None:
        assert peer.joined_at is not None
        joined_at = peer.joined_at
        self._put(
            _Record(
                "join",
                room,
                peer.peer_id,
                lambda: self._store.record_join(
                    room, peer.peer_id, peer.display_name, joined_at, peer.identity
                ),
            )
        )

    def left(self, room: str, peer_id: str, reason: RemovalReason) -> None:
        self._put(
            _Record("leave", room, peer_id, lambda: self._store.record_leave(room, peer_id, reason))
        )

    def moderated(self, record: ModerationRecord) -> None:
        """A moderator's action, written after the joins handed over before it."""
        self._put(
            _Record(
                "moderation",
                record.room,
                record.moderator_id,
                lambda: self._store.record_moderation(record),
            )
        )

    def cleanup(self, room: str) -> None:
        """End stays left open in ``room`` by a worker that died (the room is new here)."""
        self._put(_Record("cleanup", room, "", lambda: self._cleanup(room)))

    def refused(self, room: str, peer_id: str, reason: JoinRefusal, display_name: str = "") -> None:
        """A join the room refused (full, busy): a history row that ends as it begins."""
        logger.info("room %s peer %s refused: %s", room, clip(peer_id), reason)
        self._put(
            _Record(
                "refusal",
                room,
                peer_id,
                lambda: self._store.record_refusal(room, peer_id, display_name, reason),
            )
        )

    # --- the writer ----------------------------------------------------------------------

    def _put(self, record: _Record) -> None:
        if self._queue.qsize() >= self._backlog:
            self._dropped += 1
            if self._dropped == 1:
                logger.error(
                    "room %s peer %s: participation backlog full (%s), %s not recorded",
                    record.room,
                    clip(record.peer_id),
                    self._backlog,
                    record.what,
                )
            return
        if self._dropped:
            logger.warning("participation recorder: %s records were dropped", self._dropped)
            self._dropped = 0
        self._queue.put_nowait(record)

    def _cleanup(self, room: str) -> None:
        closed = self._store.close_dangling_participations(room)
        if closed:
            logger.info(
                "room %s: closed %s participations left open by a lost worker", room, closed
            )

    async def _run(self) -> None:
        while True:
            record = await self._queue.get()
            try:
                await self._write(record)
            finally:
                self._queue.task_done()

    async def _write(self, record: _Record) -> None:
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        refused = 0
        backoff = self._first_backoff
        while True:
            try:
                await loop.run_in_executor(self._executor, _in_thread, record.write)
            except OUTAGE_ERRORS as error:
                self._outage(error)
            except Exception as error:
                refused += 1
                if refused >= self._attempts:
                    logger.error(
                        "room %s peer %s: %s not recorded after %s attempts: %s",
                        record.room,
                        clip(record.peer_id),
                        record.what,
                        refused,
                        clip(error),
                    )
                    return
            else:
                self._recovered()
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    def _outage(self, error: BaseException) -> None:
        if self._outage_since is not None:
            return
        self._outage_since = time.monotonic()
        logger.warning(
            "participation recorder: database unavailable (%s), retrying; %s records waiting",
            describe(error),
            self._queue.qsize() + 1,
        )

    def _recovered(self) -> None:
        if self._outage_since is None:
            return
        logger.info(
            "participation recorder: database back after %.1f s, %s records still to write",
            time.monotonic() - self._outage_since,
            self._queue.qsize(),
        )
        self._outage_since = None


def _in_thread(write: Callable[[], object]) -> None:
    # What database_sync_to_async does around a call: drop a connection that broke
    # or outlived CONN_MAX_AGE, so a restarted database is reconnected to.
    close_old_connections()
    try:
        write()
    finally:
        close_old_connections()
