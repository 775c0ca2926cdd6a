/**
 * Payloads of the Phoenix channel `room:<name>`: the join reply (ok or error) and the
 * "mediaEvent" push. The frames themselves are the phoenix npm client's business.
 */

import { expectObject, expectString, isObject, ProtocolError } from "./guards";

export type Grant = "publish" | "subscribe" | "moderate";

export interface JoinOk {
  readonly peerId: string;
  readonly iceServers: RTCIceServer[];
  /** What this peer may do; a server that names none grants what an open room does. */
  readonly grants: readonly Grant[];
}

export const PARTICIPANT_GRANTS: readonly Grant[] = ["publish", "subscribe"];
const GRANTS: readonly string[] = ["publish", "subscribe", "moderate"];

export type JoinErrorReason =
  | "room not found"
  | "room full"
  | "room locked"
  | "invalid room name"
  | "invalid params"
  | "room unavailable";

/**
 * What a failed join means for the user. `final` failures stop the phoenix client's
 * endless rejoin; `transient` ones let it retry with its own backoff.
 */
export type JoinFailure =
  | { kind: "final"; reason: JoinErrorReason | "unknown"; message: string }
  | { kind: "transient"; reason: JoinErrorReason | "unknown" | "timeout"; message: string };

const FINAL_MESSAGES: Record<Exclude<JoinErrorReason, "room unavailable">, string> = {
  "room not found": "This room does not exist. Check the link or create a new room from the home page.",
  "room full": "This room is full. Try again later or join another room.",
  "room locked": "This room is locked: nobody else can join it right now.",
  "invalid room name": "This room name is not valid. Room names use letters, digits, '-' and '_'.",
  "invalid params": "The server refused the join request. Check your display name and try again.",
};

export function parseJoinOk(response: unknown): JoinOk {
  const object = expectObject(response, "join reply");
  const peerId = expectString(object.peerId, "join reply peerId");
  const rawServers = object.iceServers ?? [];
  if (!Array.isArray(rawServers)) throw new ProtocolError("join reply iceServers: expected an array");
  const iceServers: RTCIceServer[] = rawServers.map((raw, i) => {
    const server = expectObject(raw, `iceServers[${i}]`);
    const urls = server.urls;
    const validUrls =
      typeof urls === "string" || (Array.isArray(urls) && urls.every((url) => typeof url === "string"));
    if (!validUrls) throw new ProtocolError(`iceServers[${i}].urls: expected a string or strings`);
    const result: RTCIceServer = { urls: urls as string | string[] };
    if (typeof server.username === "string") result.username = server.username;
    if (typeof server.credential === "string") result.credential = server.credential;
    return result;
  });
  const rawGrants = object.grants;
  if (rawGrants !== undefined && !Array.isArray(rawGrants)) throw new ProtocolError("join reply grants: expected an array");
  // Unknown names (a newer server's) are left out: the server enforces grants anyway.
  const grants = rawGrants
    ? rawGrants.filter((grant): grant is Grant => typeof grant === "string" && GRANTS.includes(grant))
    : PARTICIPANT_GRANTS;
  return { peerId, iceServers, grants };
}

export function classifyJoinError(response: unknown): JoinFailure {
  const reason = isObject(response) && typeof response.reason === "string" ? response.reason : "";
  if (reason in FINAL_MESSAGES) {
    const known = reason as keyof typeof FINAL_MESSAGES;
    return { kind: "final", reason: known, message: FINAL_MESSAGES[known] };
  }
  if (reason === "room unavailable") {
    return {
      kind: "transient",
      reason: "room unavailable",
      message: "The room is not available right now. Retrying...",
    };
  }
  // An unknown reason may be a newer server's transient condition; the phoenix client's
  // rejoin backoff (up to 10 s) keeps retrying harmless.
  return {
    kind: "transient",
    reason: "unknown",
    message: reason ? `Could not join the room (${reason}). Retrying...` : "Could not join the room. Retrying...",
  };
}

export const JOIN_TIMEOUT_FAILURE: JoinFailure = {
  kind: "transient",
  reason: "timeout",
  message: "The server did not answer. Retrying...",
};

/** The `{data}` payload of a "mediaEvent" push, in both directions. */
export interface MediaEventPayload {
  readonly data: string;
}

export function parseMediaEventPayload(payload: unknown): string | null {
  return isObject(payload) && typeof payload.data === "string" ? payload.data : null;
}
