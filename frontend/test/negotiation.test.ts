import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  localMidToTrackId,
  endpointOfTrack,
  makeTrackId,
  OfferPlan,
  preferredCodecs,
  recvonlyToAdd,
  remoteTracksByMid,
  type TransceiverView,
} from "../src/client/negotiation";

const send = (mid: string | null, kind: "audio" | "video", trackId: string): TransceiverView => ({
  mid,
  kind,
  direction: "sendonly",
  localTrackId: trackId,
});
const recv = (mid: string | null, kind: "audio" | "video"): TransceiverView => ({ mid, kind, direction: "recvonly", localTrackId: null });

describe("negotiation bookkeeping", () => {
  it("adds recvonly transceivers until counts match offerData tracksTypes", () => {
    assert.deepEqual(recvonlyToAdd([], { audio: 2, video: 3 }), { audio: 2, video: 3 });
    assert.deepEqual(recvonlyToAdd([send("0", "audio", "me:a"), recv("1", "audio"), recv("2", "video")], { audio: 2, video: 1 }), {
      audio: 1,
      video: 0,
    });
  });

  it("never removes receivers when the server sends fewer tracks", () => {
    assert.deepEqual(recvonlyToAdd([recv("0", "video"), recv("1", "video")], { audio: 0, video: 1 }), { audio: 0, video: 0 });
  });

  it("does not count our inactive (removed) senders as receivers", () => {
    const removed: TransceiverView = { mid: "0", kind: "video", direction: "inactive", localTrackId: null };
    assert.deepEqual(recvonlyToAdd([removed], { audio: 0, video: 1 }), { audio: 0, video: 1 });
  });

  it("maps only our sending transceivers with a mid into midToTrackId", () => {
    assert.deepEqual(localMidToTrackId([send("0", "audio", "me:a"), send(null, "video", "me:v"), recv("1", "video"), send("2", "video", "me:s")]), {
      "0": "me:a",
      "2": "me:s",
    });
  });

  it("takes remote tracks from the answer's midToTrackId, leaving out our own", () => {
    const remote = remoteTracksByMid({ "0": "me:a", "1": "ann:v", "2": "ann:a" }, new Set(["me:a"]));
    assert.deepEqual([...remote.entries()], [
      ["1", "ann:v"],
      ["2", "ann:a"],
    ]);
  });

  it("builds track ids from the endpoint id, and reads the owner back", () => {
    assert.equal(makeTrackId("peer1", "uuid"), "peer1:uuid");
    assert.equal(endpointOfTrack(makeTrackId("peer1", "a:b")), "peer1");
    assert.equal(endpointOfTrack("no-owner"), "");
  });

  it("prefers VP8 with RTX for video and Opus for audio", () => {
    const video = [{ mimeType: "video/H264" }, { mimeType: "video/VP8" }, { mimeType: "video/rtx" }, { mimeType: "video/VP9" }];
    assert.deepEqual(preferredCodecs("video", video).map((c) => c.mimeType), ["video/VP8", "video/rtx"]);
    const audio = [{ mimeType: "audio/ISAC" }, { mimeType: "audio/opus" }, { mimeType: "audio/red" }];
    assert.deepEqual(preferredCodecs("audio", audio).map((c) => c.mimeType), ["audio/opus"]);
  });

  it("keeps all codecs when the preferred one is missing", () => {
    const codecs = [{ mimeType: "video/H264" }];
    assert.deepEqual(preferredCodecs("video", codecs), codecs);
  });
});

describe("offer plan (aiortc balanced-bundle workaround)", () => {
  it("lets the first offer add any number of mid 0's kind but one of the other kind", () => {
    const plan = new OfferPlan([]);
    for (const kind of ["audio", "audio", "video"] as const) {
      assert.equal(plan.canAdd(kind), true);
      plan.add(kind);
    }
    assert.equal(plan.canAdd("audio"), true);
    assert.equal(plan.canAdd("video"), false);
  });

  it("allows any number of a kind the connection already has", () => {
    const plan = new OfferPlan(["audio", "video"]);
    plan.add("video");
    plan.add("video");
    assert.equal(plan.canAdd("video"), true);
  });

  it("limits audio when video came first", () => {
    const plan = new OfferPlan(["video"]);
    plan.add("audio");
    assert.equal(plan.canAdd("audio"), false);
    assert.equal(plan.canAdd("video"), true);
  });
});
