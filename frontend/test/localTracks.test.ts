import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LocalTracks } from "../src/client/localTracks";
import { fakeStream, fakeTrack } from "./fakes";

const stream = (): MediaStream => fakeStream;
let counter = 0;
const newId = (): string => `u${++counter}`;

describe("local tracks", () => {
  it("publishes each track once per session, with its type and mute state", () => {
    const tracks = new LocalTracks();
    tracks.replace("microphone", fakeTrack("audio", false), stream);
    tracks.replace("camera", fakeTrack("video"), stream);
    const first = tracks.assignIds("p1", newId);
    assert.deepEqual(
      first.map((t) => [t.trackId.startsWith("p1:"), t.metadata]),
      [
        [true, { type: "microphone", active: false }],
        [true, { type: "camera", active: true }],
      ],
    );
    assert.deepEqual(tracks.assignIds("p1", newId), []);
    tracks.forgetIds();
    assert.equal(tracks.assignIds("p2", newId).length, 2);
  });

  it("hands back the published id of a replaced or removed track", () => {
    const tracks = new LocalTracks();
    const screen = fakeTrack("video");
    tracks.replace("screensharing", screen, stream);
    const [published] = tracks.assignIds("p1", newId);
    assert.deepEqual(tracks.replace("screensharing", screen, stream), { changed: false, unpublishId: null });
    assert.deepEqual(tracks.replace("screensharing", null, stream), { changed: true, unpublishId: published?.trackId });
    assert.equal(tracks.get("screensharing"), null);
  });

  it("mutes through the track and reports the metadata to send", () => {
    const tracks = new LocalTracks();
    const mic = fakeTrack("audio");
    tracks.replace("microphone", mic, stream);
    assert.deepEqual(tracks.setActive("microphone", false), {
      trackId: null,
      metadata: { type: "microphone", active: false },
    });
    assert.equal(mic.enabled, false);
    assert.equal(tracks.get("microphone")?.active, false);
    assert.equal(tracks.setActive("camera", false), null);
  });
});
