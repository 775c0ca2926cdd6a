import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertMatches } from "./match";
import { classifyJoinError, parseJoinOk, parseMediaEventPayload } from "../src/protocol/channelPayloads";

describe("join error classification", () => {
  for (const reason of ["room not found", "room full", "room locked", "invalid room name", "invalid params"]) {
    it(`treats ${reason} as final with a message for people`, () => {
      const failure = classifyJoinError({ reason });
      assert.equal(failure.kind, "final");
      assert.equal(failure.reason, reason);
      assert.ok(!failure.message.includes("Retrying"));
    });
  }

  it("treats room unavailable as transient", () => {
    assertMatches(classifyJoinError({ reason: "room unavailable" }), { kind: "transient", reason: "room unavailable" });
  });

  it("treats unknown or missing reasons as transient", () => {
    assertMatches(classifyJoinError({ reason: "server busy" }), { kind: "transient", reason: "unknown" });
    assertMatches(classifyJoinError(undefined), { kind: "transient", reason: "unknown" });
  });
});

describe("join ok reply", () => {
  it("reads the peer id and ICE servers", () => {
    assert.deepEqual(
      parseJoinOk({ peerId: "p1", iceServers: [{ urls: ["turn:h:3478"], username: "u", credential: "c" }, { urls: "stun:h" }] }),
    { peerId: "p1", iceServers: [{ urls: ["turn:h:3478"], username: "u", credential: "c" }, { urls: "stun:h" }], grants: ["publish", "subscribe"] });
  });

  it("defaults to no ICE servers", () => {
    assert.deepEqual(parseJoinOk({ peerId: "p1" }), { peerId: "p1", iceServers: [], grants: ["publish", "subscribe"] });
  });

  it("rejects replies without a peer id or with bad servers", () => {
    assert.throws(() => parseJoinOk({}), /peerId/);
    assert.throws(() => parseJoinOk({ peerId: "p", iceServers: [{ urls: 5 }] }), /urls/);
  });
});

describe("mediaEvent payload", () => {
  it("extracts the data string", () => {
    assert.equal(parseMediaEventPayload({ data: "{}" }), "{}");
    assert.equal(parseMediaEventPayload({ data: {} }), null);
    assert.equal(parseMediaEventPayload(null), null);
  });
});
