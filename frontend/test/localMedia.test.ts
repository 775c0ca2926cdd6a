import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertMatches } from "./match";
import { acquireMedia, classifyMediaError, describeMediaProblems, type MediaDevicesLike } from "../src/client/localMedia";
import { fakeTrack } from "./fakes";

function domError(name: string): Error {
  const error = new Error(name);
  error.name = name;
  return error;
}

/** getUserMedia that grants only the kinds listed and fails the others with `error`. */
function devices(granted: ("audio" | "video")[], error = "NotAllowedError"): MediaDevicesLike & { calls: MediaStreamConstraints[] } {
  const calls: MediaStreamConstraints[] = [];
  return {
    calls,
    async getUserMedia(constraints) {
      calls.push(constraints);
      const wanted = (["audio", "video"] as const).filter((kind) => constraints[kind]);
      if (!wanted.every((kind) => granted.includes(kind))) throw domError(error);
      const tracks = wanted.map((kind) => fakeTrack(kind));
      return {
        getAudioTracks: () => tracks.filter((t) => t.kind === "audio"),
        getVideoTracks: () => tracks.filter((t) => t.kind === "video"),
      } as unknown as MediaStream;
    },
  };
}

describe("acquiring camera and microphone", () => {
  it("asks for both at once when both work", async () => {
    const fake = devices(["audio", "video"]);
    const media = await acquireMedia({}, fake);
    assert.equal(media.audio?.kind, "audio");
    assert.equal(media.video?.kind, "video");
    assert.equal(fake.calls.length, 1);
  });

  it("falls back to audio only when the camera is missing", async () => {
    const media = await acquireMedia({}, devices(["audio"], "NotFoundError"));
    assert.notEqual(media.audio, null);
    assert.equal(media.video, null);
    assert.deepEqual(media.problems, { audio: null, video: "no-device" });
    assert.match(String(describeMediaProblems(media.problems)), /Camera: no device was found\. You can join with audio only/);
  });

  it("joins to watch only when permission is denied", async () => {
    const media = await acquireMedia({}, devices([]));
    assertMatches(media, { audio: null, video: null, problems: { audio: "permission-denied", video: "permission-denied" } });
    assert.match(String(describeMediaProblems(media.problems)), /denied.*watch and listen/);
  });

  it("reports an insecure page where media devices are unavailable", async () => {
    const media = await acquireMedia({}, undefined);
    assert.deepEqual(media.problems, { audio: "unsupported", video: "unsupported" });
  });

  it("requests only the devices wanted, with the chosen device ids", async () => {
    const fake = devices(["video"]);
    await acquireMedia({ audio: false, videoDeviceId: "cam2" }, fake);
    assert.equal(fake.calls.length, 1);
    assert.equal(fake.calls[0]?.audio, undefined);
    assertMatches(fake.calls[0]?.video, { deviceId: { exact: "cam2" } });
  });

  it("says nothing when all is well", () => {
    assert.equal(describeMediaProblems({ audio: null, video: null }), null);
  });
});

describe("media error classification", () => {
  const cases: [string, string][] = [
    ["NotAllowedError", "permission-denied"],
    ["NotFoundError", "no-device"],
    ["OverconstrainedError", "no-device"],
    ["NotReadableError", "device-busy"],
    ["Weird", "unknown"],
  ];
  for (const [name, problem] of cases) {
    it(`${name} -> ${problem}`, () => {
      assert.equal(classifyMediaError(domError(name)), problem);
    });
  }
});
