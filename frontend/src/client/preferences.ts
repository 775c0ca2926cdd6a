/**
 * What the browser remembers between visits (localStorage) and hands from the home page
 * to the room page (sessionStorage).
 */

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface Preferences {
  readonly displayName: string;
  readonly audioDeviceId: string | null;
  readonly videoDeviceId: string | null;
  readonly audioEnabled: boolean;
  readonly videoEnabled: boolean;
}

const KEYS = {
  displayName: "videoroom.displayName",
  audioDeviceId: "videoroom.audioDeviceId",
  videoDeviceId: "videoroom.videoDeviceId",
  audioEnabled: "videoroom.audioEnabled",
  videoEnabled: "videoroom.videoEnabled",
  joinIntent: "videoroom.joinIntent",
} as const;

/** Same limit as the server's PeerChannel. */
export const MAX_DISPLAY_NAME_LENGTH = 64;
/** Same rule as rooms/names.py. */
const ROOM_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isValidRoomName(name: string): boolean {
  return ROOM_NAME.test(name);
}

export function normaliseDisplayName(raw: string): string | null {
  const name = raw.trim().replace(/\s+/g, " ");
  if (name === "" || name.length > MAX_DISPLAY_NAME_LENGTH) return null;
  return name;
}

function safeGet(storage: StorageLike | undefined, key: string): string | null {
  try {
    return storage?.getItem(key) ?? null;
  } catch {
    return null; // storage disabled (privacy mode): behave as a first visit
  }
}

function safeSet(storage: StorageLike | undefined, key: string, value: string | null): void {
  try {
    if (value === null) storage?.removeItem(key);
    else storage?.setItem(key, value);
  } catch {
    // Remembering is a convenience; failing to store is not an error for the user.
  }
}

export function loadPreferences(storage: StorageLike | undefined): Preferences {
  return {
    displayName: safeGet(storage, KEYS.displayName) ?? "",
    audioDeviceId: safeGet(storage, KEYS.audioDeviceId),
    videoDeviceId: safeGet(storage, KEYS.videoDeviceId),
    audioEnabled: safeGet(storage, KEYS.audioEnabled) !== "false",
    videoEnabled: safeGet(storage, KEYS.videoEnabled) !== "false",
  };
}

export function savePreferences(storage: StorageLike | undefined, prefs: Partial<Preferences>): void {
  if (prefs.displayName !== undefined) safeSet(storage, KEYS.displayName, prefs.displayName);
  if (prefs.audioDeviceId !== undefined) safeSet(storage, KEYS.audioDeviceId, prefs.audioDeviceId);
  if (prefs.videoDeviceId !== undefined) safeSet(storage, KEYS.videoDeviceId, prefs.videoDeviceId);
  if (prefs.audioEnabled !== undefined) safeSet(storage, KEYS.audioEnabled, String(prefs.audioEnabled));
  if (prefs.videoEnabled !== undefined) safeSet(storage, KEYS.videoEnabled, String(prefs.videoEnabled));
}

/** The home page's "join" click, so the room page can join without asking again. */
export function recordJoinIntent(session: StorageLike | undefined, roomName: string): void {
  safeSet(session, KEYS.joinIntent, roomName);
}

/** True once if the home page just sent the user to this room; the intent is consumed. */
export function takeJoinIntent(session: StorageLike | undefined, roomName: string): boolean {
  const intent = safeGet(session, KEYS.joinIntent);
  safeSet(session, KEYS.joinIntent, null);
  return intent === roomName;
}

export function roomPath(roomName: string): string {
  return `/room/${encodeURIComponent(roomName)}`;
}

/** `?relay=1` on the room URL: media only through TURN, for networks that block direct UDP. */
/**
 * A signed join token handed to the page in its URL: `#token=...` (kept out of server logs
 * and Referer headers) or `?token=...`. Null when there is none.
 */
export function joinTokenFrom(search: string, hash: string): string | null {
  const fromHash = new URLSearchParams(hash.replace(/^#/, "")).get("token");
  const token = fromHash ?? new URLSearchParams(search).get("token");
  return token ? token : null;
}

export function relayOnlyRequested(search: string): boolean {
  const value = new URLSearchParams(search).get("relay");
  return value === "1" || value === "true";
}
