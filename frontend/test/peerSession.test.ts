import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { PeerSession, type PublishedTrack } from "../src/client/peerSession";
import type { ClientEvent, SdpOfferData } from "../src/protocol/mediaEvents";
import { fakeStream, fakeTrack } from "./fakes";
import { FakePeerConnection, installFakeRtc } from "./fakeRtc";

let sent: ClientEvent[];
let remote: [string, unknown][];
let failures: string[];

function makeSession(): PeerSession {
  return new PeerSession(
    { iceServers: [] },
    {
      send: (event) => sent.push(event),
      onRemoteTrack: (trackId, track) => remote.push([trackId, track]),
      onConnected: () => undefined,
      onFailed: (reason) => failures.push(reason),
    },
  );
}

const published = (trackId: string, kind: "audio" | "video", type: "camera" | "microphone" | "screensharing"): PublishedTrack => ({
  trackId,
  track: fakeTrack(kind),
  stream: fakeStream,
  metadata: { type, active: true },
});

/** Lets the session's negotiation queue run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function lastOffer(): SdpOfferData {
  const event = sent.filter((e) => e.type === "custom" && e.data.type === "sdpOffer").at(-1);
  assert.ok(event && event.type === "custom" && event.data.type === "sdpOffer");
  return event.data.data;
}

const pc = (): FakePeerConnection => {
  const instance = FakePeerConnection.instances.at(-1);
  assert.ok(instance);
  return instance;
};

const customTypes = (): string[] => sent.map((e) => (e.type === "custom" ? `custom:${e.data.type}` : e.type));

beforeEach(() => {
  installFakeRtc();
  sent = [];
  remote = [];
  failures = [];
});

describe("peer session negotiation", () => {
  it("asks the server to renegotiate when tracks are published", () => {
    const session = makeSession();
    session.publish([published("me:a", "audio", "microphone")]);
    assert.deepEqual(customTypes(), ["custom:renegotiateTracks"]);
  });

  it("offers its tracks sendonly and enough recvonly m-lines, naming only its own mids", async () => {
    const session = makeSession();
    session.publish([published("me:a", "audio", "microphone"), published("me:v", "video", "camera")]);
    session.onOfferData({ audio: 2, video: 0 });
    await settle();
    const directions = pc().transceivers.map((t) => `${t.receiver.track.kind}:${t.direction}`);
    assert.deepEqual(directions, ["audio:sendonly", "video:sendonly", "audio:recvonly", "audio:recvonly"]);
    const offer = lastOffer();
    assert.deepEqual(offer.midToTrackId, { "0": "me:a", "1": "me:v" });
    assert.deepEqual(offer.trackIdToTrackMetadata, {
      "me:a": { type: "microphone", active: true },
      "me:v": { type: "camera", active: true },
    });
    assert.equal(offer.sdpOffer.type, "offer");
    assert.equal(pc().restartIceCalls, 0);
    assert.deepEqual(pc().config, { bundlePolicy: "max-bundle", iceServers: [] });
  });

  it("prefers VP8 and Opus on every transceiver", async () => {
    const session = makeSession();
    session.publish([published("me:a", "audio", "microphone")]);
    session.onOfferData({ audio: 0, video: 1 });
    await settle();
    const preferences = pc().transceivers.map((t) => t.codecPreferences?.map((c) => c.mimeType));
    assert.deepEqual(preferences, [["audio/opus"], ["video/VP8", "video/rtx"]]);
  });

  it("introduces only one video m-line in the first offer and the rest in the next round", async () => {
    const session = makeSession();
    session.publish([published("me:a", "audio", "microphone"), published("me:v", "video", "camera")]);
    session.onOfferData({ audio: 1, video: 2 });
    await settle();
    let kinds = pc().transceivers.map((t) => `${t.receiver.track.kind}:${t.direction}`);
    assert.deepEqual(kinds, ["audio:sendonly", "video:sendonly", "audio:recvonly"]);
    session.onSdpAnswer("v=0", { "0": "me:a", "1": "me:v", "2": "bob:a" });
    session.onOfferData({ audio: 1, video: 2 });
    await settle();
    kinds = pc().transceivers.map((t) => `${t.receiver.track.kind}:${t.direction}`);
    assert.deepEqual(kinds, ["audio:sendonly", "video:sendonly", "audio:recvonly", "video:recvonly", "video:recvonly"]);
  });

  it("sends a held-back track of its own in another round", async () => {
    const session = makeSession();
    session.publish([
      published("me:a", "audio", "microphone"),
      published("me:v", "video", "camera"),
      published("me:s", "video", "screensharing"),
    ]);
    session.onOfferData({ audio: 0, video: 0 });
    await settle();
    assert.deepEqual(Object.values(lastOffer().midToTrackId), ["me:a", "me:v"]);
    sent = [];
    session.onSdpAnswer("v=0", { "0": "me:a", "1": "me:v" });
    await settle();
    assert.deepEqual(customTypes(), ["custom:renegotiateTracks"]);
    session.onOfferData({ audio: 0, video: 0 });
    await settle();
    assert.deepEqual(lastOffer().midToTrackId, { "0": "me:a", "1": "me:v", "2": "me:s" });
  });

  it("reports remote tracks under the track ids the answer gives their mids", async () => {
    const session = makeSession();
    session.onOfferData({ audio: 1, video: 1 });
    await settle();
    session.onSdpAnswer("v=0", { "0": "bob:a", "1": "bob:v" });
    await settle();
    assert.deepEqual(
      remote.map(([trackId]) => trackId),
      ["bob:a", "bob:v"],
    );
    assert.equal(remote[0]?.[1], pc().transceivers[0]?.receiver.track);
  });

  it("holds a metadata change made during an offer until the answer", async () => {
    const session = makeSession();
    session.publish([published("me:a", "audio", "microphone")]);
    session.onOfferData({ audio: 0, video: 0 });
    await settle();
    sent = [];
    session.updateMetadata("me:a", { type: "microphone", active: false });
    assert.deepEqual(sent, []);
    session.onSdpAnswer("v=0", { "0": "me:a" });
    await settle();
    assert.deepEqual(sent, [
      { type: "updateTrackMetadata", data: { trackId: "me:a", trackMetadata: { type: "microphone", active: false } } },
    ]);
    sent = [];
    session.updateMetadata("me:a", { type: "microphone", active: true });
    assert.equal(sent.length, 1);
  });

  it("resends the metadata of acknowledged tracks only, as they are now", async () => {
    const session = makeSession();
    session.publish([published("me:a", "audio", "microphone")]);
    session.onOfferData({ audio: 0, video: 0 });
    await settle();
    session.onSdpAnswer("v=0", { "0": "me:a" });
    await settle();
    session.publish([published("me:v", "video", "camera")]); // not acknowledged yet
    session.updateMetadata("me:a", { type: "microphone", active: false });
    sent = [];
    session.resendMetadata();
    assert.deepEqual(sent, [
      { type: "updateTrackMetadata", data: { trackId: "me:a", trackMetadata: { type: "microphone", active: false } } },
    ]);
  });

  it("drops an unpublished track from the next offer", async () => {
    const session = makeSession();
    session.publish([published("me:a", "audio", "microphone"), published("me:s", "video", "screensharing")]);
    session.onOfferData({ audio: 0, video: 0 });
    await settle();
    session.onSdpAnswer("v=0", { "0": "me:a", "1": "me:s" });
    session.unpublish("me:s");
    assert.equal(pc().transceivers[1]?.direction, "inactive");
    session.onOfferData({ audio: 0, video: 0 });
    await settle();
    assert.deepEqual(lastOffer().midToTrackId, { "0": "me:a" });
  });

  it("reports a failed connection once it fails", async () => {
    const session = makeSession();
    session.onOfferData({ audio: 1, video: 0 });
    await settle();
    pc().setConnectionState("connected");
    assert.deepEqual(failures, []);
    pc().setConnectionState("failed");
    assert.equal(failures.length, 1);
    session.close();
    assert.equal(pc().closed, true);
  });
});
