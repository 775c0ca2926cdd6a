import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertMatches } from "./match";
import { initialRoomState, type RoomState } from "../src/client/roomState";
import { buildParticipants, buildTiles, gridColumns, type LocalSummary, SELF_CAMERA_KEY } from "../src/client/tiles";

const local: LocalSummary = {
  displayName: "Ann",
  hasMicrophone: true,
  microphoneActive: true,
  hasCamera: true,
  cameraActive: true,
  sharingScreen: false,
};

const room: RoomState = {
  ...initialRoomState,
  status: "connected",
  selfId: "me",
  endpoints: {
    bob: {
      id: "bob",
      displayName: "Bob",
      tracks: {
        "bob:c": { id: "bob:c", endpointId: "bob", metadata: { type: "camera", active: false } },
        "bob:m": { id: "bob:m", endpointId: "bob", metadata: { type: "microphone", active: false } },
        "bob:s": { id: "bob:s", endpointId: "bob", metadata: { type: "screensharing", active: true } },
      },
    },
    cy: {
      id: "cy",
      displayName: "Cy",
      tracks: { "cy:m": { id: "cy:m", endpointId: "cy", metadata: { type: "microphone", active: true } } },
    },
  },
};

describe("tiles", () => {
  it("shows own tile first, labelled as you", () => {
    const [own] = buildTiles(room, local, null);
    assertMatches(own, { key: SELF_CAMERA_KEY, isSelf: true, label: "You (Ann)", microphoneMuted: false, cameraOff: false });
  });

  it("gives each remote participant a tile with indicators from track metadata", () => {
    const tiles = buildTiles(room, local, null);
    assertMatches(tiles.find((t) => t.key === "camera:bob"), {
      label: "Bob",
      videoTrackId: "bob:c",
      audioTrackId: "bob:m",
      microphoneMuted: true,
      cameraOff: true,
    });
    assertMatches(tiles.find((t) => t.key === "camera:cy"), { videoTrackId: null, microphoneMuted: false, cameraOff: true });
  });

  it("gives screen shares their own tiles", () => {
    const tiles = buildTiles(room, { ...local, sharingScreen: true }, null);
    assert.deepEqual(tiles.filter((t) => t.kind === "screen").map((t) => t.label), ["Your screen", "Bob (screen)"]);
  });

  it("puts the pinned tile first and marks it", () => {
    const tiles = buildTiles(room, local, "screen:bob:s");
    assertMatches(tiles[0], { key: "screen:bob:s", pinned: true });
    assert.equal((tiles.filter((t) => t.pinned)).length, 1);
  });

  it("ignores a pin on a tile that is gone", () => {
    assert.equal(buildTiles(room, local, "camera:gone").some((t) => t.pinned), false);
  });

  it("marks own muted microphone and missing camera", () => {
    const [own] = buildTiles(room, { ...local, microphoneActive: false, hasCamera: false }, null);
    assertMatches(own, { microphoneMuted: true, cameraOff: true });
  });
});

describe("participants list", () => {
  it("lists you first, then the others by name, with their state", () => {
    assert.deepEqual(buildParticipants(room, local).map((p) => [p.name, p.microphoneMuted]), [
      ["Ann (you)", false],
      ["Bob", true],
      ["Cy", false],
    ]);
  });
});

describe("grid", () => {
  it("uses 1 to 4 columns by tile count", () => {
    assert.deepEqual([1, 2, 4, 5, 9, 10, 16].map(gridColumns), [1, 2, 2, 3, 3, 4, 4]);
  });
});
