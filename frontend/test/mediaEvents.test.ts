import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertMatches } from "./match";
import {
  candidateEvent,
  connectEvent,
  parseServerEvent,
  renegotiateTracksEvent,
  sdpOfferEvent,
  serializeClientEvent,
  updateTrackMetadataEvent,
} from "../src/protocol/mediaEvents";

const parse = (event: unknown) => parseServerEvent(JSON.stringify(event));

describe("parsing server media events", () => {
  it("reads connected with other endpoints and their tracks", () => {
    const result = parse({
      type: "connected",
      data: {
        id: "me",
        otherEndpoints: [
          {
            id: "ann",
            type: "webrtc",
            metadata: { displayName: "Ann" },
            trackIdToMetadata: {},
            tracks: { "ann:1": { metadata: { type: "camera", active: false }, simulcastConfig: { enabled: false } } },
          },
        ],
      },
    });
    assert.deepEqual(result, {
      ok: true,
      event: {
        type: "connected",
        data: {
          id: "me",
          otherEndpoints: [
            {
              id: "ann",
              type: "webrtc",
              metadata: { displayName: "Ann" },
              tracks: [{ trackId: "ann:1", metadata: { type: "camera", active: false } }],
            },
          ],
        },
      },
    });
  });

  it("falls back to the deprecated trackIdToMetadata when tracks is absent", () => {
    const result = parse({
      type: "tracksAdded",
      data: { endpointId: "ann", trackIdToMetadata: { "ann:1": { type: "microphone", active: true } } },
    });
    assert.deepEqual(result.ok && result.event, {
      type: "tracksAdded",
      data: { endpointId: "ann", tracks: [{ trackId: "ann:1", metadata: { type: "microphone", active: true } }] },
    });
  });

  it("unwraps custom offerData, sdpAnswer and candidate events", () => {
    assert.deepEqual(
      parse({ type: "custom", data: { type: "offerData", data: { tracksTypes: { audio: 2, video: 1 }, integratedTurnServers: [] } } }),
    { ok: true, event: { type: "offerData", data: { tracksTypes: { audio: 2, video: 1 } } } });
    assert.deepEqual(
      parse({ type: "custom", data: { type: "sdpAnswer", data: { type: "answer", sdp: "v=0", midToTrackId: { "0": "a:1" } } } }),
    { ok: true, event: { type: "sdpAnswer", data: { sdp: "v=0", midToTrackId: { "0": "a:1" } } } });
    assert.deepEqual(
      parse({ type: "custom", data: { type: "candidate", data: { candidate: "candidate:1 1 udp 1 1.2.3.4 5 typ host", sdpMLineIndex: 0 } } }),
    {
      ok: true,
      event: {
        type: "candidate",
        data: { candidate: "candidate:1 1 udp 1 1.2.3.4 5 typ host", sdpMLineIndex: 0, sdpMid: null, usernameFragment: null },
      },
    });
  });

  it("normalises track metadata from other clients", () => {
    const result = parse({ type: "trackUpdated", data: { endpointId: "a", trackId: "a:1", metadata: { type: "audio" } } });
    assert.deepEqual(result.ok && result.event.data, { endpointId: "a", trackId: "a:1", metadata: { type: "microphone", active: true } });
  });

  it("gives endpoints without a display name a placeholder", () => {
    const result = parse({ type: "endpointAdded", data: { id: "x", type: "webrtc", metadata: null } });
    assert.deepEqual(result.ok && result.event, {
      type: "endpointAdded",
      data: { id: "x", type: "webrtc", metadata: { displayName: "Guest" } },
    });
  });

  it("ignores dialect features this client does not use", () => {
    assert.deepEqual(parse({ type: "custom", data: { type: "vadNotification", data: { trackId: "a", status: "speech" } } }), {
      ok: false,
      ignored: true,
      type: "vadNotification",
    });
  });

  it("reports malformed events instead of throwing", () => {
    assertMatches(parseServerEvent("{not json"), { ok: false, ignored: false });
    assertMatches(parse({ type: "tracksRemoved", data: { endpointId: "a", trackIds: [1] } }), {
      ok: false,
      ignored: false,
      error: /trackIds/,
    });
    assertMatches(parse({ type: "connected", data: { otherEndpoints: [] } }), { ok: false, ignored: false });
    assertMatches(parse({ type: "somethingNew" }), { ok: false, ignored: false, error: /somethingNew/ });
    assertMatches(parse([1, 2]), { ok: false, ignored: false });
  });
});

describe("serialising client media events", () => {
  it("sends connect with the display name as endpoint metadata", () => {
    assert.deepEqual(JSON.parse(serializeClientEvent(connectEvent("Ann"))), {
      type: "connect",
      data: { metadata: { displayName: "Ann" } },
    });
  });

  it("wraps WebRTC events as custom events", () => {
    assert.deepEqual(JSON.parse(serializeClientEvent(renegotiateTracksEvent())), {
      type: "custom",
      data: { type: "renegotiateTracks" },
    });
    const offer = sdpOfferEvent({
      sdpOffer: { type: "offer", sdp: "v=0" },
      trackIdToTrackMetadata: { "me:1": { type: "camera", active: true } },
      trackIdToTrackBitrates: { "me:1": 1_500_000 },
      midToTrackId: { "0": "me:1" },
    });
    assert.deepEqual(JSON.parse(serializeClientEvent(offer)), {
      type: "custom",
      data: {
        type: "sdpOffer",
        data: {
          sdpOffer: { type: "offer", sdp: "v=0" },
          trackIdToTrackMetadata: { "me:1": { type: "camera", active: true } },
          trackIdToTrackBitrates: { "me:1": 1500000 },
          midToTrackId: { "0": "me:1" },
        },
      },
    });
    assert.deepEqual(JSON.parse(serializeClientEvent(candidateEvent({ candidate: "candidate:x", sdpMLineIndex: 0, sdpMid: "0", usernameFragment: "u" }))), {
      type: "custom",
      data: { type: "candidate", data: { candidate: "candidate:x", sdpMLineIndex: 0, sdpMid: "0", usernameFragment: "u" } },
    });
  });

  it("sends track metadata updates at top level", () => {
    assert.deepEqual(JSON.parse(serializeClientEvent(updateTrackMetadataEvent("me:1", { type: "microphone", active: false }))), {
      type: "updateTrackMetadata",
      data: { trackId: "me:1", trackMetadata: { type: "microphone", active: false } },
    });
  });
});
