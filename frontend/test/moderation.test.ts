import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { assertMatches } from "./match";
import { parseJoinOk } from "../src/protocol/channelPayloads";
import { parseServerEvent } from "../src/protocol/mediaEvents";
import { RoomClient } from "../src/client/roomClient";
import { canModerate, REMOVED_BY_MODERATOR_MESSAGE } from "../src/client/roomState";
import { buildTiles, type LocalSummary } from "../src/client/tiles";
import { FakeSession, FakeSocket, fakeStream, fakeTrack } from "./fakes";

let socket: FakeSocket;
let sessions: FakeSession[];

function makeClient(): RoomClient {
  return new RoomClient({
    roomName: "demo",
    displayName: "Ann",
    socket,
    createSession: (config, callbacks) => {
      const session = new FakeSession(config, callbacks);
      sessions.push(session);
      return session;
    },
    newId: () => "id",
    mediaRetryDelaysMs: [0],
    log: () => undefined,
  });
}

function connect(client: RoomClient, grants?: unknown, others: unknown[] = []): void {
  client.join();
  socket.last.joinPush.reply("ok", { peerId: "me", iceServers: [], ...(grants ? { grants } : {}) });
  socket.last.serverEvent({ type: "connected", data: { id: "me", otherEndpoints: others } });
}

const BOB = {
  id: "bob",
  type: "webrtc",
  metadata: { displayName: "Bob" },
  tracks: {
    "bob:m": { metadata: { type: "microphone", active: true, mutedBy: "moderator" } },
    "bob:c": { metadata: { type: "camera", active: true } },
  },
};

const local: LocalSummary = {
  displayName: "Ann",
  hasMicrophone: false,
  microphoneActive: false,
  hasCamera: false,
  cameraActive: false,
  sharingScreen: false,
};

beforeEach(() => {
  socket = new FakeSocket();
  sessions = [];
});

describe("grants in the join reply", () => {
  it("keeps the known grants and defaults to an open room's", () => {
    assert.deepEqual(parseJoinOk({ peerId: "p", grants: ["subscribe", "moderate", "fly"] }).grants, [
      "subscribe",
      "moderate",
    ]);
    assert.deepEqual(parseJoinOk({ peerId: "p" }).grants, ["publish", "subscribe"]);
    assert.throws(() => parseJoinOk({ peerId: "p", grants: "moderate" }), /grants/);
  });

  it("shows moderator controls only with the moderate grant", () => {
    const participant = makeClient();
    connect(participant);
    assert.equal(canModerate(participant.state), false);
    const moderator = makeClient();
    connect(moderator, ["publish", "subscribe", "moderate"]);
    assert.equal(canModerate(moderator.state), true);
  });

  it("publishes nothing without the publish grant", () => {
    const client = makeClient();
    client.setLocalTrack("camera", fakeTrack("video"), fakeStream);
    connect(client, ["subscribe"]);
    assert.deepEqual(sessions.at(-1)?.published, []);
  });
});

describe("moderator actions", () => {
  it("sends moderateTrack and removePeer as custom events, only as a moderator", () => {
    const participant = makeClient();
    connect(participant);
    participant.moderateTrack("bob", "bob:m", true);
    participant.removeParticipant("bob");
    assert.deepEqual(socket.last.sentEvents().slice(1), []);

    const moderator = makeClient();
    connect(moderator, ["publish", "subscribe", "moderate"]);
    moderator.moderateTrack("bob", "bob:m", true);
    moderator.removeParticipant("bob");
    assert.deepEqual(socket.last.sentEvents().slice(1), [
      { type: "custom", data: { type: "moderateTrack", data: { peerId: "bob", trackId: "bob:m", muted: true } } },
      { type: "custom", data: { type: "removePeer", data: { peerId: "bob" } } },
    ]);
  });

  it("marks a track the server says a moderator muted, on the tile for everyone", () => {
    const client = makeClient();
    connect(client, undefined, [BOB]);
    const tile = buildTiles(client.state, local, null).find((t) => t.endpointId === "bob");
    assertMatches(tile, { microphoneModerated: true, microphoneMuted: true, videoModerated: false, cameraOff: false });
    socket.last.serverEvent({
      type: "trackUpdated",
      data: { endpointId: "bob", trackId: "bob:c", metadata: { type: "camera", active: true, mutedBy: "moderator" } },
    });
    const after = buildTiles(client.state, local, null).find((t) => t.endpointId === "bob");
    assertMatches(after, { videoModerated: true, cameraOff: true });
  });

  it("ignores a mutedBy other than the server's mark", () => {
    const parsed = parseServerEvent(
      JSON.stringify({ type: "trackUpdated", data: { endpointId: "b", trackId: "b:1", metadata: { mutedBy: "me" } } }),
    );
    assert.ok(parsed.ok && parsed.event.type === "trackUpdated");
    assert.equal(parsed.event.data.metadata.mutedByModerator, undefined);
  });
});

describe("removal by a moderator", () => {
  it("ends the visit with a clear message and does not rejoin", async () => {
    const client = makeClient();
    connect(client);
    const channels = socket.channels.length;
    socket.last.serverEvent({ type: "endpointRemoved", data: { id: "me", reason: "removed_by_moderator" } });
    assertMatches(client.state, { status: "closed", message: REMOVED_BY_MODERATOR_MESSAGE, removedByModerator: true });
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(socket.channels.length, channels, "no new channel");
  });
});

describe("join token", () => {
  it("is sent as the token join parameter when the page has one", () => {
    new RoomClient({ roomName: "demo", displayName: "Ann", socket, token: "signed", log: () => undefined }).join();
    assert.deepEqual(socket.last.params, { displayName: "Ann", resumable: true, token: "signed" });
  });
});
