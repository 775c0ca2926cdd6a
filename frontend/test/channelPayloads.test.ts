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

  for (const reason of ["token required", "token invalid", "token expired", "token for another room", "login required", "not allowed", "too many attempts", "too many new rooms"]) {
    it(`treats the policy refusal ${reason} as final with its own message`, () => {
      const failure = classifyJoinError({ reason });
      assertMatches(failure, { kind: "final", reason });
      assert.ok(failure.message.length > 0 && !failure.message.includes("Retrying"));
    });
  }

  it("asks for a PIN on pin required and wrong pin", () => {
    assertMatches(classifyJoinError({ reason: "pin required" }), { kind: "pin", reason: "pin required" });
    assertMatches(classifyJoinError({ reason: "wrong pin" }), { kind: "pin", reason: "wrong pin" });
  });

  it("does not take inherited names for reasons", () => {
    assertMatches(classifyJoinError({ reason: "toString" }), { kind: "transient", reason: "unknown" });
  });

  it("treats room unavailable as transient", () => {
    assertMatches(classifyJoinError({ reason: "room unavailable" }), { kind: "transient", reason: "room unavailable" });
  });

  it("treats a refused resume as transient: the next join is a fresh one", () => {
    assertMatches(classifyJoinError({ reason: "resume refused" }), { kind: "transient", reason: "resume refused" });
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
    { peerId: "p1", iceServers: [{ urls: ["turn:h:3478"], username: "u", credential: "c" }, { urls: "stun:h" }], grants: ["publish", "subscribe"], resume: null, resumed: false });
  });

  it("defaults to no ICE servers", () => {
    assert.deepEqual(parseJoinOk({ peerId: "p1" }), { peerId: "p1", iceServers: [], grants: ["publish", "subscribe"], resume: null, resumed: false });
  });

  it("reads the resume secret and whether the join resumed a peer", () => {
    assertMatches(parseJoinOk({ peerId: "p1", resume: "s3cret", resumed: true }), { resume: "s3cret", resumed: true });
    assertMatches(parseJoinOk({ peerId: "p1", resume: 5, resumed: "yes" }), { resume: null, resumed: false });
  });

  it("reads the grants", () => {
    assert.deepEqual(parseJoinOk({ peerId: "p1", grants: ["moderate", "publish"] }).grants, ["moderate", "publish"]);
    assert.throws(() => parseJoinOk({ peerId: "p1", grants: "publish" }), /grants/);
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
