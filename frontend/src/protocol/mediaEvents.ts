/**
 * Media events of the Membrane RTC Engine endpoint dialect, both directions.
 *
 * On the wire every event is `{type, data?}`, JSON-encoded into the `data` string of a
 * Phoenix "mediaEvent" payload. WebRTC-specific events are wrapped as
 * `{type: "custom", data: {type, data}}`; the parser unwraps them, so callers see one flat
 * discriminated union.
 */

import {
  expectNumber,
  expectObject,
  expectString,
  expectStringArray,
  expectStringMap,
  isObject,
  type JsonObject,
  optionalString,
  ProtocolError,
} from "./guards";
import {
  type EndpointMetadata,
  parseEndpointMetadata,
  parseTrackMetadata,
  type TrackMetadata,
} from "./metadata";

export interface RemoteTrackInfo {
  readonly trackId: string;
  readonly metadata: TrackMetadata;
}

export interface EndpointInfo {
  readonly id: string;
  readonly type: string;
  readonly metadata: EndpointMetadata;
  readonly tracks: readonly RemoteTrackInfo[];
}

export interface TracksTypes {
  readonly audio: number;
  readonly video: number;
}

export interface IceCandidateData {
  readonly candidate: string;
  readonly sdpMLineIndex: number | null;
  readonly sdpMid: string | null;
  readonly usernameFragment: string | null;
}

export type ServerEvent =
  | { type: "connected"; data: { id: string; otherEndpoints: EndpointInfo[] } }
  | { type: "endpointAdded"; data: { id: string; type: string; metadata: EndpointMetadata } }
  /** `reason` (a server RemovalReason) only when the removed endpoint is this client's own. */
  | { type: "endpointRemoved"; data: { id: string; reason?: string } }
  | { type: "endpointUpdated"; data: { id: string; metadata: EndpointMetadata } }
  | { type: "tracksAdded"; data: { endpointId: string; tracks: RemoteTrackInfo[] } }
  | { type: "tracksRemoved"; data: { endpointId: string; trackIds: string[] } }
  | { type: "trackUpdated"; data: { endpointId: string; trackId: string; metadata: TrackMetadata } }
  | { type: "error"; data: { message: string } }
  | { type: "offerData"; data: { tracksTypes: TracksTypes } }
  | { type: "sdpAnswer"; data: { sdp: string; midToTrackId: Record<string, string> } }
  | { type: "candidate"; data: IceCandidateData };

export type ServerEventType = ServerEvent["type"];

export type ParseResult =
  | { ok: true; event: ServerEvent }
  | { ok: false; ignored: true; type: string }
  | { ok: false; ignored: false; error: string };

/** Events of the dialect this client does not act on (simulcast, VAD, bandwidth...). */
const IGNORED_TYPES = new Set([
  "tracksPriority",
  "encodingSwitched",
  "vadNotification",
  "bandwidthEstimation",
  "trackEncodingEnabled",
  "trackEncodingDisabled",
]);

function parseTracks(data: JsonObject, what: string): RemoteTrackInfo[] {
  // `tracks` is the current field; `trackIdToMetadata` the deprecated one. Accept either.
  const tracks = data.tracks;
  if (isObject(tracks)) {
    return Object.entries(tracks).map(([trackId, info]) => ({
      trackId,
      metadata: parseTrackMetadata(isObject(info) ? info.metadata : undefined),
    }));
  }
  const legacy = data.trackIdToMetadata;
  if (isObject(legacy)) {
    return Object.entries(legacy).map(([trackId, metadata]) => ({
      trackId,
      metadata: parseTrackMetadata(metadata),
    }));
  }
  if (tracks === undefined && legacy === undefined) return [];
  throw new ProtocolError(`${what}.tracks: expected an object`);
}

function parseEndpoint(raw: unknown, what: string): EndpointInfo {
  const object = expectObject(raw, what);
  return {
    id: expectString(object.id, `${what}.id`),
    type: optionalString(object.type) ?? "webrtc",
    metadata: parseEndpointMetadata(object.metadata),
    tracks: parseTracks(object, what),
  };
}

function parseCandidate(raw: unknown): IceCandidateData {
  const data = expectObject(raw, "candidate");
  const index = data.sdpMLineIndex;
  return {
    candidate: expectString(data.candidate, "candidate.candidate"),
    sdpMLineIndex: typeof index === "number" ? index : null,
    sdpMid: optionalString(data.sdpMid),
    usernameFragment: optionalString(data.usernameFragment),
  };
}

function parseCustom(raw: unknown): ServerEvent | string {
  const inner = expectObject(raw, "custom");
  const type = expectString(inner.type, "custom.type");
  switch (type) {
    case "offerData": {
      const data = expectObject(inner.data, "offerData");
      const types = expectObject(data.tracksTypes, "offerData.tracksTypes");
      const audio = types.audio === undefined ? 0 : expectNumber(types.audio, "tracksTypes.audio");
      const video = types.video === undefined ? 0 : expectNumber(types.video, "tracksTypes.video");
      return { type, data: { tracksTypes: { audio, video } } };
    }
    case "sdpAnswer": {
      const data = expectObject(inner.data, "sdpAnswer");
      return {
        type,
        data: {
          sdp: expectString(data.sdp, "sdpAnswer.sdp"),
          midToTrackId: expectStringMap(data.midToTrackId ?? {}, "sdpAnswer.midToTrackId"),
        },
      };
    }
    case "candidate":
      return { type, data: parseCandidate(inner.data) };
    default:
      return type;
  }
}

function parseEvent(raw: unknown): ServerEvent | string {
  const event = expectObject(raw, "media event");
  const type = expectString(event.type, "media event type");
  const data = event.data;
  switch (type) {
    case "custom":
      return parseCustom(data);
    case "connected": {
      const object = expectObject(data, type);
      const others = object.otherEndpoints ?? [];
      if (!Array.isArray(others)) throw new ProtocolError("connected.otherEndpoints: expected an array");
      return {
        type,
        data: {
          id: expectString(object.id, "connected.id"),
          otherEndpoints: others.map((item, i) => parseEndpoint(item, `otherEndpoints[${i}]`)),
        },
      };
    }
    case "endpointAdded": {
      const endpoint = parseEndpoint(data, type);
      return { type, data: { id: endpoint.id, type: endpoint.type, metadata: endpoint.metadata } };
    }
    case "endpointRemoved": {
      const object = expectObject(data, type);
      const id = expectString(object.id, `${type}.id`);
      const reason = optionalString(object.reason);
      return { type, data: reason === null ? { id } : { id, reason } };
    }
    case "endpointUpdated": {
      const object = expectObject(data, type);
      return {
        type,
        data: {
          id: expectString(object.id ?? object.endpointId, `${type}.id`),
          metadata: parseEndpointMetadata(object.metadata),
        },
      };
    }
    case "tracksAdded": {
      const object = expectObject(data, type);
      return {
        type,
        data: {
          endpointId: expectString(object.endpointId, `${type}.endpointId`),
          tracks: parseTracks(object, type),
        },
      };
    }
    case "tracksRemoved": {
      const object = expectObject(data, type);
      return {
        type,
        data: {
          endpointId: expectString(object.endpointId, `${type}.endpointId`),
          trackIds: expectStringArray(object.trackIds, `${type}.trackIds`),
        },
      };
    }
    case "trackUpdated": {
      const object = expectObject(data, type);
      return {
        type,
        data: {
          endpointId: expectString(object.endpointId, `${type}.endpointId`),
          trackId: expectString(object.trackId, `${type}.trackId`),
          metadata: parseTrackMetadata(object.metadata),
        },
      };
    }
    case "error":
      return { type, data: { message: expectString(expectObject(data, type).message, "error.message") } };
    default:
      return type;
  }
}

/** Parses the JSON string of one server media event; never throws. */
export function parseServerEvent(json: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { ok: false, ignored: false, error: "media event is not valid JSON" };
  }
  try {
    const result = parseEvent(raw);
    if (typeof result === "string") {
      if (IGNORED_TYPES.has(result)) return { ok: false, ignored: true, type: result };
      return { ok: false, ignored: false, error: `unknown media event type ${JSON.stringify(result)}` };
    }
    return { ok: true, event: result };
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, ignored: false, error: error.message };
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// Client -> server

export interface SdpOfferData {
  readonly sdpOffer: { type: "offer"; sdp: string };
  readonly trackIdToTrackMetadata: Record<string, TrackMetadata>;
  readonly trackIdToTrackBitrates: Record<string, number>;
  readonly midToTrackId: Record<string, string>;
}

export type ClientCustomEvent =
  | { type: "renegotiateTracks" }
  | { type: "moderateTrack"; data: { peerId: string; trackId: string; muted: boolean } }
  | { type: "removePeer"; data: { peerId: string } }
  | { type: "sdpOffer"; data: SdpOfferData }
  | { type: "candidate"; data: IceCandidateData };

export type ClientEvent =
  | { type: "connect"; data: { metadata: EndpointMetadata } }
  | { type: "disconnect" }
  | { type: "updateEndpointMetadata"; data: { metadata: EndpointMetadata } }
  | { type: "updateTrackMetadata"; data: { trackId: string; trackMetadata: TrackMetadata } }
  | { type: "custom"; data: ClientCustomEvent };

export function serializeClientEvent(event: ClientEvent): string {
  return JSON.stringify(event);
}

export const connectEvent = (displayName: string): ClientEvent => ({
  type: "connect",
  data: { metadata: { displayName } },
});

export const disconnectEvent = (): ClientEvent => ({ type: "disconnect" });

export const updateTrackMetadataEvent = (trackId: string, trackMetadata: TrackMetadata): ClientEvent => ({
  type: "updateTrackMetadata",
  data: { trackId, trackMetadata },
});

export const renegotiateTracksEvent = (): ClientEvent => ({
  type: "custom",
  data: { type: "renegotiateTracks" },
});

export const sdpOfferEvent = (data: SdpOfferData): ClientEvent => ({
  type: "custom",
  data: { type: "sdpOffer", data },
});

/** A moderator mutes (or unmutes) another participant's track for everyone. */
export const moderateTrackEvent = (peerId: string, trackId: string, muted: boolean): ClientEvent => ({
  type: "custom",
  data: { type: "moderateTrack", data: { peerId, trackId, muted } },
});

/** A moderator removes another participant from the room. */
export const removePeerEvent = (peerId: string): ClientEvent => ({
  type: "custom",
  data: { type: "removePeer", data: { peerId } },
});

export const candidateEvent = (data: IceCandidateData): ClientEvent => ({
  type: "custom",
  data: { type: "candidate", data },
});
