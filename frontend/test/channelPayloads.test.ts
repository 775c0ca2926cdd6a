import { describe, expect, it } from "vitest";
import { classifyJoinError, parseJoinOk, parseMediaEventPayload } from "../src/protocol/channelPayloads";

describe("join error classification", () => {
  it.each(["room not found", "room full", "room locked", "invalid room name", "invalid params"])(
    "treats %s as final with a message for people",
    (reason) => {
      const failure = classifyJoinError({ reason });
      expect(failure.kind).toBe("final");
      expect(failure.reason).toBe(reason);
      expect(failure.message).not.toContain("Retrying");
    },
  );

  it("treats room unavailable as transient", () => {
    expect(classifyJoinError({ reason: "room unavailable" })).toMatchObject({ kind: "transient", reason: "room unavailable" });
  });

  it("treats unknown or missing reasons as transient", () => {
    expect(classifyJoinError({ reason: "server busy" })).toMatchObject({ kind: "transient", reason: "unknown" });
    expect(classifyJoinError(undefined)).toMatchObject({ kind: "transient", reason: "unknown" });
  });
});

describe("join ok reply", () => {
  it("reads the peer id and ICE servers", () => {
    expect(
      parseJoinOk({ peerId: "p1", iceServers: [{ urls: ["turn:h:3478"], username: "u", credential: "c" }, { urls: "stun:h" }] }),
    ).toEqual({ peerId: "p1", iceServers: [{ urls: ["turn:h:3478"], username: "u", credential: "c" }, { urls: "stun:h" }] });
  });

  it("defaults to no ICE servers", () => {
    expect(parseJoinOk({ peerId: "p1" })).toEqual({ peerId: "p1", iceServers: [] });
  });

  it("rejects replies without a peer id or with bad servers", () => {
    expect(() => parseJoinOk({})).toThrow(/peerId/);
    expect(() => parseJoinOk({ peerId: "p", iceServers: [{ urls: 5 }] })).toThrow(/urls/);
  });
});

describe("mediaEvent payload", () => {
  it("extracts the data string", () => {
    expect(parseMediaEventPayload({ data: "{}" })).toBe("{}");
    expect(parseMediaEventPayload({ data: {} })).toBeNull();
    expect(parseMediaEventPayload(null)).toBeNull();
  });
});
