/** Endpoint and track metadata as this client writes them, read leniently from others. */

import { isObject } from "./guards";

export type TrackType = "camera" | "microphone" | "screensharing";

export interface TrackMetadata {
  readonly type: TrackType;
  readonly active: boolean;
  /**
   * Set when the sender's metadata named no type (stock Membrane clients send `{}`): `type`
   * is then a guess until the track's media arrives and tells its kind (`withMediaKind`).
   */
  readonly inferred?: true;
  /** The server's mark (`"mutedBy": "moderator"`): a moderator stopped this track for everyone. */
  readonly mutedByModerator?: true;
}

export interface EndpointMetadata {
  readonly displayName: string;
}

const TRACK_TYPES: readonly TrackType[] = ["camera", "microphone", "screensharing"];

function isTrackType(value: unknown): value is TrackType {
  return typeof value === "string" && (TRACK_TYPES as readonly string[]).includes(value);
}

/**
 * Metadata comes from other clients, so it is normalised rather than rejected: a missing
 * type falls back to the track's kind ("audio" is the React videoroom's name for a mic),
 * a missing `active` means active.
 */
export function parseTrackMetadata(raw: unknown, kindHint: "audio" | "video" = "video"): TrackMetadata {
  const object = isObject(raw) ? raw : {};
  const active = typeof object.active === "boolean" ? object.active : true;
  const moderated = object.mutedBy === "moderator" ? ({ mutedByModerator: true } as const) : {};
  if (isTrackType(object.type)) return { type: object.type, active, ...moderated };
  if (object.type === "audio") return { type: "microphone", active, ...moderated };
  return { type: kindHint === "audio" ? "microphone" : "camera", active, inferred: true, ...moderated };
}

/** The metadata with its guessed type replaced by the one the received media's kind implies. */
export function withMediaKind(metadata: TrackMetadata, kind: string): TrackMetadata {
  if (!metadata.inferred) return metadata;
  return { ...metadata, type: kind === "audio" ? "microphone" : "camera" };
}

/** Incoming metadata for a known track: a guessed type never overrides what was learned. */
export function mergeTrackMetadata(known: TrackMetadata | undefined, incoming: TrackMetadata): TrackMetadata {
  if (!known || !incoming.inferred) return incoming;
  return { ...incoming, type: known.type };
}

export function trackKindOf(metadata: TrackMetadata): "audio" | "video" {
  return metadata.type === "microphone" ? "audio" : "video";
}

export const FALLBACK_DISPLAY_NAME = "Guest";

export function parseEndpointMetadata(raw: unknown): EndpointMetadata {
  const object = isObject(raw) ? raw : {};
  const name = object.displayName ?? object.display_name;
  if (typeof name === "string" && name.trim() !== "") return { displayName: name.trim() };
  return { displayName: FALLBACK_DISPLAY_NAME };
}
