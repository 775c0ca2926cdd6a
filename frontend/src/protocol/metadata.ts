/** Endpoint and track metadata as this client writes them, read leniently from others. */

import { isObject } from "./guards";

export type TrackType = "camera" | "microphone" | "screensharing";

export interface TrackMetadata {
  readonly type: TrackType;
  readonly active: boolean;
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
  let type: TrackType = kindHint === "audio" ? "microphone" : "camera";
  if (isTrackType(object.type)) type = object.type;
  else if (object.type === "audio") type = "microphone";
  const active = typeof object.active === "boolean" ? object.active : true;
  return { type, active };
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
