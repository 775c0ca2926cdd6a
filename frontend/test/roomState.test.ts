import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertMatches } from "./match";
import { initialRoomState, type RoomAction, roomReducer, type RoomState, sortedEndpoints } from "../src/client/roomState";
import type { ServerEvent } from "../src/protocol/mediaEvents";

const media = (event: ServerEvent): RoomAction => ({ type: "mediaEvent", event });
const run = (...actions: RoomAction[]): RoomState => actions.reduce(roomReducer, initialRoomState);

const camera = { type: "camera", active: true } as const;
const microphone = { type: "microphone", active: true } as const;

const joinedWithAnn = [
  { type: "joinStarted" },
  { type: "joined", peerId: "me" },
  media({
    type: "connected",
    data: {
      id: "me",
      otherEndpoints: [{ id: "ann", type: "webrtc", metadata: { displayName: "Ann" }, tracks: [{ trackId: "ann:c", metadata: camera }] }],
    },
  }),
] satisfies RoomAction[];

describe("room state reducer", () => {
  it("becomes connected with the endpoints and tracks listed in connected", () => {
    const state = run(...joinedWithAnn);
    assert.equal(state.status, "connected");
    assert.equal(state.selfId, "me");
    assert.deepEqual(state.endpoints.ann, {
      id: "ann",
      displayName: "Ann",
      tracks: { "ann:c": { id: "ann:c", endpointId: "ann", metadata: camera } },
    });
  });

  it("adds and removes endpoints and their tracks", () => {
    const state = run(
      ...joinedWithAnn,
      media({ type: "endpointAdded", data: { id: "bob", type: "webrtc", metadata: { displayName: "Bob" } } }),
      media({ type: "tracksAdded", data: { endpointId: "bob", tracks: [{ trackId: "bob:m", metadata: microphone }] } }),
      media({ type: "tracksRemoved", data: { endpointId: "ann", trackIds: ["ann:c"] } }),
      media({ type: "endpointRemoved", data: { id: "ann" } }),
    );
    assert.deepEqual(Object.keys(state.endpoints), ["bob"]);
    assert.deepEqual(Object.keys(state.endpoints.bob?.tracks ?? {}), ["bob:m"]);
  });

  it("applies remote mute through trackUpdated", () => {
    const state = run(
      ...joinedWithAnn,
      media({ type: "trackUpdated", data: { endpointId: "ann", trackId: "ann:c", metadata: { type: "camera", active: false } } }),
    );
    assert.equal(state.endpoints.ann?.tracks["ann:c"]?.metadata.active, false);
  });

  it("keeps tracks that arrive before their endpoint", () => {
    const state = run(
      ...joinedWithAnn,
      media({ type: "tracksAdded", data: { endpointId: "cy", tracks: [{ trackId: "cy:c", metadata: camera }] } }),
      media({ type: "endpointAdded", data: { id: "cy", type: "webrtc", metadata: { displayName: "Cy" } } }),
    );
    assertMatches(state.endpoints.cy, { displayName: "Cy", tracks: { "cy:c": { id: "cy:c" } } });
  });

  it("ignores updates for unknown endpoints and tracks", () => {
    const before = run(...joinedWithAnn);
    const after = [
      media({ type: "trackUpdated", data: { endpointId: "zed", trackId: "z", metadata: camera } }),
      media({ type: "tracksRemoved", data: { endpointId: "zed", trackIds: ["z"] } }),
      media({ type: "endpointUpdated", data: { id: "zed", metadata: { displayName: "Z" } } }),
    ].reduce(roomReducer, before);
    assert.equal(after, before);
  });

  it("forgets everything when the connection is lost and shows the message", () => {
    const state = run(...joinedWithAnn, { type: "connectionLost", message: "Reconnecting..." });
    assertMatches(state, { status: "reconnecting", message: "Reconnecting...", endpoints: {} });
  });

  it("stays reconnecting after a rejoin until the new peer is connected", () => {
    const lost = run(...joinedWithAnn, { type: "connectionLost", message: "Reconnecting..." });
    const rejoined = roomReducer(lost, { type: "joined", peerId: "me2" });
    assert.equal(rejoined.status, "reconnecting");
    const connected = roomReducer(rejoined, media({ type: "connected", data: { id: "me2", otherEndpoints: [] } }));
    assertMatches(connected, { status: "connected", selfId: "me2", message: null });
  });

  it("ends the room when the server removes this endpoint", () => {
    const state = run(...joinedWithAnn, media({ type: "endpointRemoved", data: { id: "me" } }));
    assert.equal(state.status, "closed");
  });

  it("ignores late events after a final failure or leaving", () => {
    const failed = run({ type: "joinStarted" }, { type: "joinFailed", message: "This room is full." });
    assert.equal(roomReducer(failed, { type: "connectionLost", message: "x" }), failed);
    const left = run(...joinedWithAnn, { type: "left" });
    assert.equal(roomReducer(left, { type: "closed", message: "x" }), left);
    assert.equal(roomReducer(left, media({ type: "endpointAdded", data: { id: "z", type: "webrtc", metadata: { displayName: "Z" } } })), left);
  });

  it("sorts endpoints by display name", () => {
    const state = run(
      ...joinedWithAnn,
      media({ type: "endpointAdded", data: { id: "0", type: "webrtc", metadata: { displayName: "Zoe" } } }),
      media({ type: "endpointAdded", data: { id: "1", type: "webrtc", metadata: { displayName: "Abe" } } }),
    );
    assert.deepEqual(sortedEndpoints(state).map((e) => e.displayName), ["Abe", "Ann", "Zoe"]);
  });
});
