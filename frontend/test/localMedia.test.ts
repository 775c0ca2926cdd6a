import { describe, expect, it } from "vitest";
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
    expect(media.audio?.kind).toBe("audio");
    expect(media.video?.kind).toBe("video");
    expect(fake.calls).toHaveLength(1);
  });

  it("falls back to audio only when the camera is missing", async () => {
    const media = await acquireMedia({}, devices(["audio"], "NotFoundError"));
    expect(media.audio).not.toBeNull();
    expect(media.video).toBeNull();
    expect(media.problems).toEqual({ audio: null, video: "no-device" });
    expect(describeMediaProblems(media.problems)).toMatch(/Camera: no device was found\. You can join with audio only/);
  });

  it("joins to watch only when permission is denied", async () => {
    const media = await acquireMedia({}, devices([]));
    expect(media).toMatchObject({ audio: null, video: null, problems: { audio: "permission-denied", video: "permission-denied" } });
    expect(describeMediaProblems(media.problems)).toMatch(/denied.*watch and listen/);
  });

  it("reports an insecure page where media devices are unavailable", async () => {
    const media = await acquireMedia({}, undefined);
    expect(media.problems).toEqual({ audio: "unsupported", video: "unsupported" });
  });

  it("requests only the devices wanted, with the chosen device ids", async () => {
    const fake = devices(["video"]);
    await acquireMedia({ audio: false, videoDeviceId: "cam2" }, fake);
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]?.audio).toBeUndefined();
    expect(fake.calls[0]?.video).toMatchObject({ deviceId: { exact: "cam2" } });
  });

  it("says nothing when all is well", () => {
    expect(describeMediaProblems({ audio: null, video: null })).toBeNull();
  });
});

describe("media error classification", () => {
  it.each([
    ["NotAllowedError", "permission-denied"],
    ["NotFoundError", "no-device"],
    ["OverconstrainedError", "no-device"],
    ["NotReadableError", "device-busy"],
    ["Weird", "unknown"],
  ])("%s -> %s", (name, problem) => {
    expect(classifyMediaError(domError(name))).toBe(problem);
  });
});
