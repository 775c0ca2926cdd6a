/**
 * When the phoenix client rejoins a channel the server ended with `phx_error`.
 *
 * The server sends `phx_error` when the room's worker died or shut down (or a channel
 * crashed): the room is gone, and the rejoin's claim recreates it on a live worker. The
 * phoenix default waits 1 s before the first rejoin; that second is a fifth of the 5 s a
 * dead worker may cost a call, so the first rejoin goes at once. Rejoins that fail again
 * back off as phoenix does, so a server that keeps refusing is not hammered.
 */

/** Delays before the 1st, 2nd, ... consecutive rejoin (ms); the last one repeats. */
export const REJOIN_DELAYS_MS: readonly number[] = [0, 1000, 2000, 5000, 10000];

/** The phoenix `Socket` option `rejoinAfterMs`: `tries` counts from 1. */
export function rejoinAfterMs(tries: number): number {
  const index = Math.min(Math.max(tries, 1), REJOIN_DELAYS_MS.length) - 1;
  return REJOIN_DELAYS_MS[index] ?? 10000;
}
