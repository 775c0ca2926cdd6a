import { describe, expect, it } from "vitest";
import {
  isValidRoomName,
  loadPreferences,
  normaliseDisplayName,
  recordJoinIntent,
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
    expect(loadPreferences(storage)).toEqual({
      displayName: "",
      audioDeviceId: null,
      videoDeviceId: null,
      audioEnabled: true,
      videoEnabled: true,
    });
    savePreferences(storage, { displayName: "Ann", videoDeviceId: "cam2", videoEnabled: false });
    expect(loadPreferences(storage)).toMatchObject({ displayName: "Ann", videoDeviceId: "cam2", videoEnabled: false });
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
    expect(loadPreferences(broken).displayName).toBe("");
  });

  it("joins directly only once after the home page's join", () => {
    const session = new MemoryStorage();
    expect(takeJoinIntent(session, "demo")).toBe(false);
    recordJoinIntent(session, "demo");
    expect(takeJoinIntent(session, "other")).toBe(false);
    recordJoinIntent(session, "demo");
    expect(takeJoinIntent(session, "demo")).toBe(true);
    expect(takeJoinIntent(session, "demo")).toBe(false);
  });

  it("validates room names like the server", () => {
    expect(isValidRoomName("team-1_a")).toBe(true);
    expect(isValidRoomName("-team")).toBe(false);
    expect(isValidRoomName("a b")).toBe(false);
    expect(isValidRoomName("x".repeat(65))).toBe(false);
    expect(roomPath("team-1")).toBe("/room/team-1");
  });

  it("normalises display names and rejects empty or long ones", () => {
    expect(normaliseDisplayName("  Ann   Lee ")).toBe("Ann Lee");
    expect(normaliseDisplayName("   ")).toBeNull();
    expect(normaliseDisplayName("x".repeat(65))).toBeNull();
  });
});
