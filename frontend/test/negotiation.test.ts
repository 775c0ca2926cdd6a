import { describe, expect, it } from "vitest";
import {
  localMidToTrackId,
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
    expect(recvonlyToAdd([], { audio: 2, video: 3 })).toEqual({ audio: 2, video: 3 });
    expect(recvonlyToAdd([send("0", "audio", "me:a"), recv("1", "audio"), recv("2", "video")], { audio: 2, video: 1 })).toEqual({
      audio: 1,
      video: 0,
    });
  });

  it("never removes receivers when the server sends fewer tracks", () => {
    expect(recvonlyToAdd([recv("0", "video"), recv("1", "video")], { audio: 0, video: 1 })).toEqual({ audio: 0, video: 0 });
  });

  it("does not count our inactive (removed) senders as receivers", () => {
    const removed: TransceiverView = { mid: "0", kind: "video", direction: "inactive", localTrackId: null };
    expect(recvonlyToAdd([removed], { audio: 0, video: 1 })).toEqual({ audio: 0, video: 1 });
  });

  it("maps only our sending transceivers with a mid into midToTrackId", () => {
    expect(localMidToTrackId([send("0", "audio", "me:a"), send(null, "video", "me:v"), recv("1", "video"), send("2", "video", "me:s")])).toEqual({
      "0": "me:a",
      "2": "me:s",
    });
  });

  it("takes remote tracks from the answer's midToTrackId, leaving out our own", () => {
    const remote = remoteTracksByMid({ "0": "me:a", "1": "ann:v", "2": "ann:a" }, new Set(["me:a"]));
    expect([...remote.entries()]).toEqual([
      ["1", "ann:v"],
      ["2", "ann:a"],
    ]);
  });

  it("builds track ids from the endpoint id", () => {
    expect(makeTrackId("peer1", "uuid")).toBe("peer1:uuid");
  });

  it("prefers VP8 with RTX for video and Opus for audio", () => {
    const video = [{ mimeType: "video/H264" }, { mimeType: "video/VP8" }, { mimeType: "video/rtx" }, { mimeType: "video/VP9" }];
    expect(preferredCodecs("video", video).map((c) => c.mimeType)).toEqual(["video/VP8", "video/rtx"]);
    const audio = [{ mimeType: "audio/ISAC" }, { mimeType: "audio/opus" }, { mimeType: "audio/red" }];
    expect(preferredCodecs("audio", audio).map((c) => c.mimeType)).toEqual(["audio/opus"]);
  });

  it("keeps all codecs when the preferred one is missing", () => {
    const codecs = [{ mimeType: "video/H264" }];
    expect(preferredCodecs("video", codecs)).toEqual(codecs);
  });
});

describe("offer plan (aiortc balanced-bundle workaround)", () => {
  it("lets the first offer add any number of mid 0's kind but one of the other kind", () => {
    const plan = new OfferPlan([]);
    for (const kind of ["audio", "audio", "video"] as const) {
      expect(plan.canAdd(kind)).toBe(true);
      plan.add(kind);
    }
    expect(plan.canAdd("audio")).toBe(true);
    expect(plan.canAdd("video")).toBe(false);
  });

  it("allows any number of a kind the connection already has", () => {
    const plan = new OfferPlan(["audio", "video"]);
    plan.add("video");
    plan.add("video");
    expect(plan.canAdd("video")).toBe(true);
  });

  it("limits audio when video came first", () => {
    const plan = new OfferPlan(["video"]);
    plan.add("audio");
    expect(plan.canAdd("audio")).toBe(false);
    expect(plan.canAdd("video")).toBe(true);
  });
});
