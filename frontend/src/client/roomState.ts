/**
 * The room as this client sees it: connection status, own endpoint id, and the remote
 * endpoints with their tracks' metadata. A pure reducer; media objects live elsewhere.
 */

import { type Grant, PARTICIPANT_GRANTS } from "../protocol/channelPayloads";
import type { ServerEvent } from "../protocol/mediaEvents";
import { mergeTrackMetadata, type TrackMetadata, withMediaKind } from "../protocol/metadata";

export type ConnectionStatus =
  | "idle"
  | "connecting" // first join in progress
  | "needsPin" // the room asked for its PIN: nothing happens until the user enters one
  | "connected"
  | "reconnecting" // socket lost, channel errored or media failed: recovery is automatic
  | "failed" // final join error: nothing more happens without the user
  | "closed" // removed by the server
  | "left"; // the user left

export interface RemoteTrack {
  readonly id: string;
  readonly endpointId: string;
  readonly metadata: TrackMetadata;
}

export interface RemoteEndpoint {
  readonly id: string;
  readonly displayName: string;
  readonly tracks: Readonly<Record<string, RemoteTrack>>;
}

export interface RoomState {
  readonly status: ConnectionStatus;
  /** Why the room is failed, closed or reconnecting, in words for the user. */
  readonly message: string | null;
  readonly selfId: string | null;
  readonly endpoints: Readonly<Record<string, RemoteEndpoint>>;
  /** From the join reply: `moderate` shows the moderator controls, `publish` lets tracks out. */
  readonly grants: readonly Grant[];
  /** Closed because a moderator removed this participant: no rejoin is offered. */
  readonly removedByModerator: boolean;
}

export const REMOVED_MESSAGE = "You were removed from the room.";
export const REMOVED_BY_MODERATOR_MESSAGE = "A moderator removed you from the room.";

export type RoomAction =
  | { type: "joinStarted" }
  /** `grants` absent: what an open room grants. */
  | { type: "joined"; peerId: string; grants?: readonly Grant[] }
  | { type: "connectionLost"; message: string }
  /** The socket or channel broke but the media session lives on, to be resumed. */
  | { type: "signalingLost"; message: string }
  | { type: "joinFailed"; message: string }
  | { type: "pinRequired"; message: string }
  | { type: "closed"; message: string }
  | { type: "left" }
  | { type: "mediaEvent"; event: ServerEvent }
  /** A remote track's media arrived: its kind settles a type its metadata did not name. */
  | { type: "remoteMedia"; endpointId: string; trackId: string; kind: string };

export const initialRoomState: RoomState = {
  status: "idle",
  message: null,
  selfId: null,
  endpoints: {},
  grants: PARTICIPANT_GRANTS,
  removedByModerator: false,
};

function withEndpoint(state: RoomState, endpoint: RemoteEndpoint): RoomState {
  return { ...state, endpoints: { ...state.endpoints, [endpoint.id]: endpoint } };
}

function withoutKey<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

function applyMediaEvent(state: RoomState, event: ServerEvent): RoomState {
  switch (event.type) {
    case "connected": {
      const endpoints: Record<string, RemoteEndpoint> = {};
      for (const other of event.data.otherEndpoints) {
        if (other.id === event.data.id) continue;
        const tracks: Record<string, RemoteTrack> = {};
        for (const track of other.tracks) {
          tracks[track.trackId] = { id: track.trackId, endpointId: other.id, metadata: track.metadata };
        }
        endpoints[other.id] = { id: other.id, displayName: other.metadata.displayName, tracks };
      }
      return { ...state, status: "connected", message: null, selfId: event.data.id, endpoints };
    }
    case "endpointAdded": {
      if (event.data.id === state.selfId) return state;
      const existing = state.endpoints[event.data.id];
      return withEndpoint(state, {
        id: event.data.id,
        displayName: event.data.metadata.displayName,
        tracks: existing?.tracks ?? {},
      });
    }
    case "endpointUpdated": {
      const existing = state.endpoints[event.data.id];
      if (!existing) return state;
      return withEndpoint(state, { ...existing, displayName: event.data.metadata.displayName });
    }
    case "endpointRemoved":
      if (event.data.id === state.selfId) {
        const byModerator = event.data.reason === "removed_by_moderator";
        const message = byModerator ? REMOVED_BY_MODERATOR_MESSAGE : REMOVED_MESSAGE;
        return { ...state, status: "closed", message, endpoints: {}, removedByModerator: byModerator };
      }
      return { ...state, endpoints: withoutKey(state.endpoints, event.data.id) };
    case "tracksAdded": {
      const { endpointId } = event.data;
      if (endpointId === state.selfId) return state;
      // Tolerate tracksAdded before endpointAdded: the endpoint appears with a placeholder name.
      const endpoint = state.endpoints[endpointId] ?? { id: endpointId, displayName: "Guest", tracks: {} };
      const tracks = { ...endpoint.tracks };
      for (const track of event.data.tracks) {
        const metadata = mergeTrackMetadata(tracks[track.trackId]?.metadata, track.metadata);
        tracks[track.trackId] = { id: track.trackId, endpointId, metadata };
      }
      return withEndpoint(state, { ...endpoint, tracks });
    }
    case "tracksRemoved": {
      const endpoint = state.endpoints[event.data.endpointId];
      if (!endpoint) return state;
      let tracks: Record<string, RemoteTrack> = { ...endpoint.tracks };
      for (const trackId of event.data.trackIds) tracks = withoutKey(tracks, trackId);
      return withEndpoint(state, { ...endpoint, tracks });
    }
    case "trackUpdated": {
      const endpoint = state.endpoints[event.data.endpointId];
      const track = endpoint?.tracks[event.data.trackId];
      if (!endpoint || !track) return state;
      return withEndpoint(state, {
        ...endpoint,
        tracks: {
          ...endpoint.tracks,
          [track.id]: { ...track, metadata: mergeTrackMetadata(track.metadata, event.data.metadata) },
        },
      });
    }
    case "error":
    case "offerData":
    case "sdpAnswer":
    case "candidate":
      return state;
  }
}

export function roomReducer(state: RoomState, action: RoomAction): RoomState {
  switch (action.type) {
    case "joinStarted":
      return { ...initialRoomState, status: "connecting" };
    case "joined":
      // A (re)join creates a new server-side peer: everything known before is stale and the
      // server resends it after `connect`.
      return { ...state, selfId: action.peerId, grants: action.grants ?? PARTICIPANT_GRANTS, endpoints: {}, message: null };
    case "connectionLost":
      if (isFinal(state.status)) return state;
      return { ...state, status: "reconnecting", message: action.message, endpoints: {} };
    case "signalingLost":
      // The others stay on screen: their media still flows while the page reconnects.
      if (isFinal(state.status)) return state;
      return { ...state, status: "reconnecting", message: action.message };
    case "joinFailed":
      return { ...state, status: "failed", message: action.message, endpoints: {} };
    case "pinRequired":
      return { ...state, status: "needsPin", message: action.message, endpoints: {} };
    case "closed":
      if (state.status === "left") return state;
      return { ...state, status: "closed", message: action.message, endpoints: {} };
    case "left":
      return { ...state, status: "left", message: null, endpoints: {} };
    case "mediaEvent":
      if (isFinal(state.status)) return state;
      return applyMediaEvent(state, action.event);
    case "remoteMedia": {
      // Keyed by (endpoint, track): a track id is only ever looked up in its own endpoint.
      const endpoint = state.endpoints[action.endpointId];
      const track = endpoint?.tracks[action.trackId];
      if (!track || !endpoint || !track.metadata.inferred) return state;
      const metadata = withMediaKind(track.metadata, action.kind);
      return withEndpoint(state, { ...endpoint, tracks: { ...endpoint.tracks, [track.id]: { ...track, metadata } } });
    }
  }
}

export function canModerate(state: RoomState): boolean {
  return state.status === "connected" && state.grants.includes("moderate");
}

export function isFinal(status: ConnectionStatus): boolean {
  return status === "failed" || status === "closed" || status === "left";
}

/** Remote endpoints in a stable order (by name, then id) for lists and tiles. */
export function sortedEndpoints(state: RoomState): RemoteEndpoint[] {
  return Object.values(state.endpoints).sort(
    (a, b) => a.displayName.localeCompare(b.displayName) || a.id.localeCompare(b.id),
  );
}

export function findTrack(state: RoomState, trackId: string): RemoteTrack | null {
  for (const endpoint of Object.values(state.endpoints)) {
    const track = endpoint.tracks[trackId];
    if (track) return track;
  }
  return null;
}
