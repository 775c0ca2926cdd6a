import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertMatches } from "./match";
import {
  isValidRoomName,
  loadPreferences,
  normaliseDisplayName,
  recordJoinIntent,
  relayOnlyRequested,
  roomPath,
  savePreferences,
  type StorageLike,
  takeJoinIntent,
} from "../src/client/preferences";

class MemoryStorage implements StorageLike {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

describe("preferences", () => {
  it("remembers the display name and device choices", () => {
    const storage = new MemoryStorage();
    assert.deepEqual(loadPreferences(storage), {
      displayName: "",
      audioDeviceId: null,
      videoDeviceId: null,
      audioEnabled: true,
      videoEnabled: true,
    });
    savePreferences(storage, { displayName: "Ann", videoDeviceId: "cam2", videoEnabled: false });
    assertMatches(loadPreferences(storage), { displayName: "Ann", videoDeviceId: "cam2", videoEnabled: false });
  });

  it("behaves as a first visit when storage throws", () => {
    const broken: StorageLike = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("denied");
      },
      removeItem: () => undefined,
    };
    savePreferences(broken, { displayName: "Ann" });
    assert.equal(loadPreferences(broken).displayName, "");
  });

  it("joins directly only once after the home page's join", () => {
    const session = new MemoryStorage();
    assert.equal(takeJoinIntent(session, "demo"), false);
    recordJoinIntent(session, "demo");
    assert.equal(takeJoinIntent(session, "other"), false);
    recordJoinIntent(session, "demo");
    assert.equal(takeJoinIntent(session, "demo"), true);
    assert.equal(takeJoinIntent(session, "demo"), false);
  });

  it("validates room names like the server", () => {
    assert.equal(isValidRoomName("team-1_a"), true);
    assert.equal(isValidRoomName("-team"), false);
    assert.equal(isValidRoomName("a b"), false);
    assert.equal(isValidRoomName("x".repeat(65)), false);
    assert.equal(roomPath("team-1"), "/room/team-1");
  });

  it("normalises display names and rejects empty or long ones", () => {
    assert.equal(normaliseDisplayName("  Ann   Lee "), "Ann Lee");
    assert.equal(normaliseDisplayName("   "), null);
    assert.equal(normaliseDisplayName("x".repeat(65)), null);
  });
});

describe("relay-only setting", () => {
  it("is on with ?relay=1 and off otherwise", () => {
    assert.equal(relayOnlyRequested("?relay=1"), true);
    assert.equal(relayOnlyRequested("?x=2&relay=true"), true);
    assert.equal(relayOnlyRequested(""), false);
    assert.equal(relayOnlyRequested("?relay=0"), false);
  });
});

describe("join token from the URL", () => {
  it("reads #token= first, then ?token=", async () => {
    const { joinTokenFrom } = await import("../src/client/preferences");
    assert.equal(joinTokenFrom("?token=q", "#token=h"), "h");
    assert.equal(joinTokenFrom("?token=q", ""), "q");
    assert.equal(joinTokenFrom("", ""), null);
    assert.equal(joinTokenFrom("?token=", "#x=1"), null);
  });
});
