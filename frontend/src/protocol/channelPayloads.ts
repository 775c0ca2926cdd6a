/**
 * Payloads of the Phoenix channel `room:<name>`: the join reply (ok or error) and the
 * "mediaEvent" push. The frames themselves are the phoenix npm client's business.
 */

import { expectObject, expectString, isObject, ProtocolError } from "./guards";

export type Grant = "publish" | "subscribe" | "moderate";

export interface JoinOk {
  readonly peerId: string;
  readonly iceServers: RTCIceServer[];
  /** The secret that lets a later join take this peer back (sent when asked `resumable`). */
  readonly resume: string | null;
  /** True when this join took back the peer of an earlier one (same id, same media). */
  readonly resumed: boolean;
  /** What this peer may do; a server that names none grants what an open room does. */
  readonly grants: readonly Grant[];
}

export const PARTICIPANT_GRANTS: readonly Grant[] = ["publish", "subscribe"];
const GRANTS: readonly string[] = ["publish", "subscribe", "moderate"];

/** The join refusals after which the page asks for the room's PIN and joins again. */
export type PinReason = "pin required" | "wrong pin";

export type JoinErrorReason =
  | "room not found"
  | "room full"
  | "room locked"
  | "invalid room name"
  | "invalid params"
  | "room unavailable"
  | "token required"
  | "token invalid"
  | "token expired"
  | "token for another room"
  | "login required"
  | "not allowed"
  | "too many attempts"
  | "too many new rooms"
  | "resume refused"
  | PinReason;

/**
 * What a failed join means for the user. `final` failures stop the phoenix client's
 * endless rejoin; `transient` ones let it retry with its own backoff; `pin` ones stop it
 * too, until the user enters the room's PIN.
 */
export type JoinFailure =
  | { kind: "final"; reason: JoinErrorReason | "unknown"; message: string }
  | { kind: "transient"; reason: JoinErrorReason | "unknown" | "timeout"; message: string }
  | { kind: "pin"; reason: PinReason; message: string };

const PIN_MESSAGES: Record<PinReason, string> = {
  "pin required": "This room needs a PIN. Enter it to join.",
  "wrong pin": "That PIN is not right. Try again.",
};

const FINAL_MESSAGES: Record<Exclude<JoinErrorReason, "room unavailable" | "resume refused" | PinReason>, string> = {
  "room not found": "This room does not exist. Check the link or create a new room from the home page.",
  "room full": "This room is full. Try again later or join another room.",
  "room locked": "This room is locked: nobody else can join it right now.",
  "invalid room name": "This room name is not valid. Room names use letters, digits, '-' and '_'.",
  "invalid params": "The server refused the join request. Check your display name and try again.",
  "token required": "This room is by invitation only: open it with the link you were given.",
  "token invalid": "This invitation link is not valid. Ask whoever sent it for a new one.",
  "token expired": "This invitation link has expired. Ask whoever sent it for a new one.",
  "token for another room": "This invitation link is for another room.",
  "login required": "This room is for signed-in users. Sign in, then join again.",
  "not allowed": "Your account is not allowed in this room.",
  "too many attempts": "Too many wrong attempts from your network. Wait a minute, then try again.",
  "too many new rooms": "Too many new rooms were created from your network. Wait a minute, then try again.",
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
  const resume = typeof object.resume === "string" && object.resume !== "" ? object.resume : null;
  return { peerId, iceServers, grants, resume, resumed: object.resumed === true };
}

export function classifyJoinError(response: unknown): JoinFailure {
  const reason = isObject(response) && typeof response.reason === "string" ? response.reason : "";
  if (reason === "pin required" || reason === "wrong pin") {
    return { kind: "pin", reason, message: PIN_MESSAGES[reason] };
  }
  if (Object.hasOwn(FINAL_MESSAGES, reason)) {
    const known = reason as keyof typeof FINAL_MESSAGES;
    return { kind: "final", reason: known, message: FINAL_MESSAGES[known] };
  }
  if (reason === "resume refused") {
    // The room no longer keeps the peer (grace period over, room moved): join afresh.
    return { kind: "transient", reason: "resume refused", message: "Rejoining the room..." };
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
