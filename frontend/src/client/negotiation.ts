/**
 * Negotiation bookkeeping, free of browser objects: which transceivers to add for an
 * `offerData`, which mids carry which of our tracks, which mids carry remote tracks.
 */

import type { TracksTypes } from "../protocol/mediaEvents";

export type MediaKind = "audio" | "video";

/** What the bookkeeping needs to know about one RTCRtpTransceiver. */
export interface TransceiverView {
  readonly mid: string | null;
  readonly kind: MediaKind;
  readonly direction: RTCRtpTransceiverDirection;
  /** Our track id when this transceiver sends one of our tracks, else null. */
  readonly localTrackId: string | null;
}

/**
 * How many recvonly transceivers of each kind to add so that the offer has at least as
 * many receiving m-lines as the server will send tracks (`offerData.tracksTypes`). The
 * server keeps m-lines of removed tracks, so existing recvonly transceivers are reused and
 * never removed.
 */
export function recvonlyToAdd(transceivers: readonly TransceiverView[], wanted: TracksTypes): TracksTypes {
  const have = { audio: 0, video: 0 };
  for (const transceiver of transceivers) {
    if (transceiver.direction === "recvonly") have[transceiver.kind] += 1;
  }
  return {
    audio: Math.max(0, wanted.audio - have.audio),
    video: Math.max(0, wanted.video - have.video),
  };
}

/**
 * Which new transceivers one offer may add. An aiortc answerer with the default "balanced"
 * bundle policy gives every later m-line of a kind the transport of that kind's first
 * m-line, and then discards that transport when it bundles the first one onto mid 0: the
 * later m-lines of a kind first offered together with a sibling never carry media. So an
 * offer that introduces a kind other than mid 0's introduces one m-line of it; the rest
 * follow in the next round (the server sends offerData again while it has unbound tracks;
 * for our own pending tracks the client asks with renegotiateTracks).
 */
export class OfferPlan {
  private primary: MediaKind | null;
  private readonly introduced = new Map<MediaKind, number>();

  constructor(private readonly existing: readonly MediaKind[]) {
    this.primary = existing[0] ?? null;
  }

  canAdd(kind: MediaKind): boolean {
    if (this.primary === null || this.primary === kind || this.existing.includes(kind)) return true;
    return (this.introduced.get(kind) ?? 0) < 1;
  }

  /** Records an added transceiver; call only after canAdd(kind) returned true. */
  add(kind: MediaKind): void {
    this.primary ??= kind;
    this.introduced.set(kind, (this.introduced.get(kind) ?? 0) + 1);
  }
}

/** `midToTrackId` for an sdpOffer: only transceivers that send one of our tracks and have a mid. */
export function localMidToTrackId(transceivers: readonly TransceiverView[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const transceiver of transceivers) {
    if (transceiver.mid !== null && transceiver.localTrackId !== null) {
      result[transceiver.mid] = transceiver.localTrackId;
    }
  }
  return result;
}

/**
 * The remote tracks an answer assigns to mids: the answer's `midToTrackId` covers every
 * m-line, ours included, so our own track ids are dropped.
 */
export function remoteTracksByMid(
  answerMidToTrackId: Readonly<Record<string, string>>,
  ownTrackIds: ReadonlySet<string>,
): Map<string, string> {
  const result = new Map<string, string>();
  for (const [mid, trackId] of Object.entries(answerMidToTrackId)) {
    if (!ownTrackIds.has(trackId)) result.set(mid, trackId);
  }
  return result;
}

/**
 * Track ids are `<endpointId>:<uuid>`, as the Membrane client makes them; the server refuses
 * any other id from a peer (docs/protocol.md, "Track ids belong to their endpoint").
 */
export function makeTrackId(endpointId: string, uuid: string): string {
  return `${endpointId}:${uuid}`;
}

/** The endpoint a track id names as its owner: everything before the first `:`. */
export function endpointOfTrack(trackId: string): string {
  const colon = trackId.indexOf(":");
  return colon < 0 ? "" : trackId.slice(0, colon);
}

/** Codec preferences that leave only VP8 (video) or Opus (audio), plus video RTX. */
export function preferredCodecs<C extends { mimeType: string }>(kind: MediaKind, codecs: readonly C[]): C[] {
  const primary = kind === "video" ? "video/vp8" : "audio/opus";
  const chosen = codecs.filter((codec) => codec.mimeType.toLowerCase() === primary);
  if (chosen.length === 0) return [...codecs];
  const rtx = kind === "video" ? codecs.filter((codec) => codec.mimeType.toLowerCase() === "video/rtx") : [];
  return [...chosen, ...rtx];
}

export const DEFAULT_BITRATES: Readonly<Record<MediaKind, number>> = {
  audio: 50_000,
  video: 1_500_000,
};
