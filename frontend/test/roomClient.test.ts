import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { assertMatches } from "./match";
import { MESSAGES, RoomClient } from "../src/client/roomClient";
import { FakeSession, FakeSocket, fakeStream, fakeTrack } from "./fakes";

let socket: FakeSocket;
let sessions: FakeSession[];
let ids: number;

function makeClient(relayOnly: boolean | { token: string } = false): RoomClient {
  return new RoomClient({
    roomName: "demo",
    ...(typeof relayOnly === "boolean" ? { relayOnly } : relayOnly),
    displayName: "Ann",
    socket,
    createSession: (config, callbacks) => {
      const session = new FakeSession(config, callbacks);
      sessions.push(session);
      return session;
    },
    newId: () => `id${++ids}`,
    mediaRetryDelaysMs: [0],
    log: () => undefined,
  });
}

const lastSession = (): FakeSession => {
  const session = sessions.at(-1);
  if (!session) throw new Error("no session");
  return session;
};

function connect(client: RoomClient, peerId = "p1", others: unknown[] = []): void {
  socket.last.joinPush.reply("ok", { peerId, iceServers: [{ urls: "stun:example.org" }] });
  socket.last.serverEvent({ type: "connected", data: { id: peerId, otherEndpoints: others } });
  assert.equal(client.state.status, "connected");
}

beforeEach(() => {
  socket = new FakeSocket();
  sessions = [];
  ids = 0;
});

/** Lets the client's retry timer (0 ms in these tests) fire. */
const retryTimers = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe("joining", () => {
  it("joins room:<name> with the display name and sends connect after the join reply", () => {
    const client = makeClient();
    client.join();
    assert.equal(socket.connected, true);
    assert.equal(socket.last.topic, "room:demo");
    assert.deepEqual(socket.last.params, { displayName: "Ann", resumable: true });
    assert.equal(client.state.status, "connecting");
    socket.last.joinPush.reply("ok", { peerId: "p1", iceServers: [] });
    assert.deepEqual(socket.last.sentEvents(), [{ type: "connect", data: { metadata: { displayName: "Ann" } } }]);
    assert.deepEqual(lastSession().config, { iceServers: [] });
  });

  it("uses the ICE servers from the join reply", () => {
    const client = makeClient();
    client.join();
    connect(client);
    assert.deepEqual(lastSession().config, { iceServers: [{ urls: "stun:example.org" }] });
  });

  it("restricts media to TURN relays when relay-only", () => {
    const client = makeClient(true);
    client.join();
    connect(client);
    assert.deepEqual(lastSession().config, {
      iceServers: [{ urls: "stun:example.org" }],
      iceTransportPolicy: "relay",
    });
  });

  it("takes a track's kind from its media when the sender's metadata names no type", () => {
    const client = makeClient();
    client.join();
    const stock = { id: "st", type: "webrtc", metadata: {}, tracks: {} };
    connect(client, "p1", [stock]);
    socket.last.serverEvent({
      type: "tracksAdded",
      data: { endpointId: "st", tracks: { "st:a": { metadata: {} }, "st:v": { metadata: {} } } },
    });
    lastSession().callbacks.onRemoteTrack("st:a", fakeTrack("audio"));
    lastSession().callbacks.onRemoteTrack("st:v", fakeTrack("video"));
    const tracks = client.state.endpoints.st?.tracks;
    assert.equal(tracks?.["st:a"]?.metadata.type, "microphone");
    assert.equal(tracks?.["st:v"]?.metadata.type, "camera");
    // A later update with empty metadata keeps what the media told.
    socket.last.serverEvent({ type: "trackUpdated", data: { endpointId: "st", trackId: "st:a", metadata: {} } });
    assert.equal(client.state.endpoints.st?.tracks["st:a"]?.metadata.type, "microphone");
  });

  it("publishes local tracks with <endpointId>:<uuid> ids after connected", () => {
    const client = makeClient();
    const mic = fakeTrack("audio", false);
    client.setLocalTrack("microphone", mic, fakeStream);
    client.setLocalTrack("camera", fakeTrack("video"), fakeStream);
    client.join();
    connect(client);
    assert.deepEqual(lastSession().published.map((t) => [t.trackId, t.metadata]), [
      ["p1:id1", { type: "microphone", active: false }],
      ["p1:id2", { type: "camera", active: true }],
    ]);
  });

  it("passes negotiation events to the session", () => {
    const client = makeClient();
    client.join();
    connect(client);
    socket.last.serverEvent({ type: "custom", data: { type: "offerData", data: { tracksTypes: { audio: 1, video: 1 } } } });
    socket.last.serverEvent({ type: "custom", data: { type: "sdpAnswer", data: { type: "answer", sdp: "v=0", midToTrackId: { "0": "x:1" } } } });
    socket.last.serverEvent({ type: "custom", data: { type: "candidate", data: { candidate: "candidate:1", sdpMLineIndex: 0 } } });
    const session = lastSession();
    assert.deepEqual(session.offers, [{ audio: 1, video: 1 }]);
    assert.deepEqual(session.answers, [{ sdp: "v=0", midToTrackId: { "0": "x:1" } }]);
    assert.equal(session.candidates.length, 1);
  });
});

describe("join errors", () => {
  const finalReasons: [string, RegExp][] = [
    ["room full", /full/],
    ["room locked", /locked/],
    ["room not found", /does not exist/],
  ];
  for (const [reason, message] of finalReasons) {
    it(`stops the endless rejoin on ${reason} and explains it`, () => {
      const client = makeClient();
      client.join();
      const channel = socket.last;
      channel.joinPush.reply("error", { reason });
      assert.equal(channel.left, true);
      assert.equal(client.state.status, "failed");
      assert.match(String(client.state.message), message);
      // A later rejoin reply of the abandoned channel changes nothing.
      channel.joinPush.reply("ok", { peerId: "late" });
      assert.equal(client.state.status, "failed");
      assert.equal(sessions.length, 0);
    });
  }

  it("asks for the PIN on pin required, then joins again with it on a new channel", () => {
    const client = makeClient();
    client.join();
    const first = socket.last;
    first.joinPush.reply("error", { reason: "pin required" });
    assert.equal(first.left, true);
    assert.equal(client.state.status, "needsPin");
    assert.match(String(client.state.message), /needs a PIN/);
    client.joinWithPin("2468");
    const second = socket.last;
    assert.notEqual(second, first);
    assertMatches(second.params, { displayName: "Ann", pin: "2468" });
    second.joinPush.reply("error", { reason: "wrong pin" });
    assert.equal(client.state.status, "needsPin");
    assert.match(String(client.state.message), /not right/);
    client.joinWithPin("1357");
    socket.last.joinPush.reply("ok", { peerId: "p1", grants: ["publish", "subscribe"] });
    assert.equal(client.state.selfId, "p1");
    assert.deepEqual(client.state.grants, ["publish", "subscribe"]);
  });

  it("ignores a PIN when none was asked for", () => {
    const client = makeClient();
    client.join();
    client.joinWithPin("2468");
    assert.equal(socket.channels.length, 1);
  });

  it("joins with the token it was given", () => {
    const client = makeClient({ token: "signed.token" });
    client.join();
    assertMatches(socket.last.params, { token: "signed.token" });
  });

  for (const reason of ["token expired", "not allowed", "too many attempts", "login required"]) {
    it(`treats ${reason} as final`, () => {
      const client = makeClient();
      client.join();
      socket.last.joinPush.reply("error", { reason });
      assert.equal(client.state.status, "failed");
      assert.doesNotMatch(String(client.state.message), /Retrying/);
    });
  }

  it("lets the phoenix client retry when the room is unavailable", () => {
    const client = makeClient();
    client.join();
    const channel = socket.last;
    channel.joinPush.reply("error", { reason: "room unavailable" });
    assert.equal(channel.left, false);
    assert.equal(client.state.status, "reconnecting");
    connect(client);
    assert.equal(socket.channels.length, 1);
  });

  it("shows reconnecting on a join timeout", () => {
    const client = makeClient();
    client.join();
    socket.last.joinPush.reply("timeout");
    assertMatches(client.state, { status: "reconnecting", message: /Retrying/ });
  });
});

describe("recovery", () => {
  it("rebuilds the session and republishes tracks under new ids after the channel rejoins", () => {
    const client = makeClient();
    client.setLocalTrack("camera", fakeTrack("video"), fakeStream);
    client.join();
    connect(client, "p1", [{ id: "bob", metadata: { displayName: "Bob" }, tracks: {} }]);
    const first = lastSession();
    socket.last.triggerError(); // phx_error: the room's worker died
    assert.equal(first.closed, true);
    assertMatches(client.state, { status: "reconnecting", message: MESSAGES.reconnecting, endpoints: {} });
    connect(client, "p2");
    const second = lastSession();
    assert.notEqual(second, first);
    assert.deepEqual(second.published.map((t) => t.trackId), ["p2:id2"]);
    assert.equal(socket.channels.length, 1);
  });

  it("shows reconnecting when the socket drops", () => {
    const client = makeClient();
    client.join();
    connect(client);
    socket.triggerError();
    assert.equal(client.state.status, "reconnecting");
    assert.equal(lastSession().closed, true);
  });

  it("keeps the media session when the socket drops and resumes the same peer on rejoin", () => {
    const client = makeClient();
    client.setLocalTrack("camera", fakeTrack("video"), fakeStream);
    client.join();
    socket.last.joinPush.reply("ok", { peerId: "p1", iceServers: [], resume: "secret-1", resumed: false });
    const bob = { id: "bob", metadata: { displayName: "Bob" }, tracks: {} };
    socket.last.serverEvent({ type: "connected", data: { id: "p1", otherEndpoints: [bob] } });
    const session = lastSession();
    socket.connected = false; // the web process died: the socket closed, then the channel errored
    socket.last.triggerError();
    socket.triggerError();
    assertMatches(client.state, { status: "reconnecting", endpoints: { bob: { displayName: "Bob" } } });
    assert.equal(session.closed, false);
    const sentBefore = socket.last.pushed.length;
    client.setActive("camera", false); // not pushed while the channel is down
    assert.equal(socket.last.pushed.length, sentBefore);
    socket.connected = true;
    assert.deepEqual(socket.last.params, { displayName: "Ann", resume: "secret-1" });
    socket.last.joinPush.reply("ok", { peerId: "p1", iceServers: [], resume: "secret-1", resumed: true });
    assert.equal(sessions.length, 1);
    assert.equal(session.metadataResent, 1); // the mute made while down reaches the room now
    assert.deepEqual(socket.last.sentEvents().filter((event) => event.type === "connect").length, 1);
    socket.last.serverEvent({ type: "connected", data: { id: "p1", otherEndpoints: [bob] } });
    assertMatches(client.state, { status: "connected", selfId: "p1", endpoints: { bob: { displayName: "Bob" } } });
    assert.equal(session.closed, false);
  });

  it("joins afresh with a new session when the server refuses the resume", () => {
    const client = makeClient();
    client.join();
    socket.last.joinPush.reply("ok", { peerId: "p1", iceServers: [], resume: "secret-1", resumed: false });
    socket.last.serverEvent({ type: "connected", data: { id: "p1", otherEndpoints: [] } });
    const first = lastSession();
    socket.connected = false;
    socket.last.triggerError();
    socket.connected = true;
    assert.deepEqual(socket.last.params, { displayName: "Ann", resume: "secret-1" });
    socket.last.joinPush.reply("error", { reason: "resume refused" });
    assert.equal(first.closed, true);
    assert.deepEqual(socket.last.params, { displayName: "Ann", resumable: true });
    connect(client, "p2");
    assert.notEqual(lastSession(), first);
  });

  it("does not resume after the server ended the peer (phx_error on a live socket)", () => {
    const client = makeClient();
    client.join();
    socket.last.joinPush.reply("ok", { peerId: "p1", iceServers: [], resume: "secret-1", resumed: false });
    socket.last.triggerError();
    assert.equal(lastSession().closed, true);
    assert.deepEqual(socket.last.params, { displayName: "Ann", resumable: true });
  });

  it("rejoins on a fresh channel when the media connection fails", async () => {
    const client = makeClient();
    client.join();
    connect(client);
    const channel = socket.last;
    lastSession().callbacks.onFailed("media connection failed");
    assert.equal(channel.left, true);
    assertMatches(client.state, { status: "reconnecting", message: MESSAGES.mediaFailed });
    await retryTimers();
    assert.equal(socket.channels.length, 2);
    connect(client, "p2");
    assert.equal(sessions.length, 2);
  });

  it("rejoins when the server refuses its offer, but not for other errors", async () => {
    const client = makeClient();
    client.join();
    connect(client);
    socket.last.serverEvent({ type: "error", data: { message: "unknown track 'x'" } });
    assert.equal(client.state.status, "connected");
    socket.last.serverEvent({ type: "error", data: { message: "invalid sdpOffer: no VP8" } });
    assertMatches(client.state, { status: "reconnecting", message: MESSAGES.mediaFailed });
    await retryTimers();
    assert.equal(socket.channels.length, 2);
  });

  it("ignores events of a channel it has abandoned", async () => {
    const client = makeClient();
    client.join();
    connect(client);
    const old = socket.last;
    lastSession().callbacks.onFailed("media connection failed");
    await retryTimers();
    old.triggerClose();
    old.serverEvent({ type: "endpointAdded", data: { id: "ghost", type: "webrtc", metadata: {} } });
    assert.equal(client.state.status, "reconnecting");
    assert.deepEqual(client.state.endpoints, {});
  });

  it("treats a server close as final", () => {
    const client = makeClient();
    client.join();
    connect(client);
    socket.last.triggerClose();
    assertMatches(client.state, { status: "closed", message: MESSAGES.closed });
  });
});

describe("local tracks", () => {
  it("mutes through the track and its metadata", () => {
    const client = makeClient();
    const mic = fakeTrack("audio");
    client.setLocalTrack("microphone", mic, fakeStream);
    client.join();
    connect(client);
    client.setActive("microphone", false);
    assert.equal(mic.enabled, false);
    assert.deepEqual(lastSession().metadataUpdates, [{ trackId: "p1:id1", metadata: { type: "microphone", active: false } }]);
    assert.equal(client.localTrack("microphone")?.active, false);
  });

  it("publishes a screen share while connected and unpublishes it when stopped", () => {
    const client = makeClient();
    client.join();
    connect(client);
    client.setLocalTrack("screensharing", fakeTrack("video"), fakeStream);
    assert.deepEqual(lastSession().published.map((t) => [t.trackId, t.metadata.type]), [["p1:id1", "screensharing"]]);
    client.setLocalTrack("screensharing", null);
    assert.deepEqual(lastSession().unpublished, ["p1:id1"]);
    assert.equal(client.localTrack("screensharing"), null);
  });

  it("keeps remote media per endpoint and track id and drops it on tracksRemoved", () => {
    const client = makeClient();
    client.join();
    connect(client, "p1", [{ id: "bob", metadata: { displayName: "Bob" }, tracks: { "bob:v": { metadata: { type: "camera", active: true } } } }]);
    const video = fakeTrack("video");
    lastSession().callbacks.onRemoteTrack("bob:v", video);
    assert.equal(client.remoteTrack("bob", "bob:v"), video);
    assert.equal(client.remoteTrack("eve", "bob:v"), null);
    socket.last.serverEvent({ type: "tracksRemoved", data: { endpointId: "bob", trackIds: ["bob:v"] } });
    assert.equal(client.remoteTrack("bob", "bob:v"), null);
  });

  it("files media under the endpoint that announced the track, and forgets a leaver's", () => {
    const client = makeClient();
    client.join();
    connect(client, "p1", [
      { id: "bob", metadata: { displayName: "Bob" }, tracks: { "bob:v": { metadata: { type: "camera", active: true } } } },
      { id: "eve", metadata: { displayName: "Eve" }, tracks: {} },
    ]);
    const video = fakeTrack("video");
    lastSession().callbacks.onRemoteTrack("bob:v", video);
    // Another endpoint's tracksRemoved naming the same id touches nothing of bob's.
    socket.last.serverEvent({ type: "tracksRemoved", data: { endpointId: "eve", trackIds: ["bob:v"] } });
    assert.equal(client.remoteTrack("bob", "bob:v"), video);
    socket.last.serverEvent({ type: "endpointRemoved", data: { id: "bob" } });
    assert.equal(client.remoteTrack("bob", "bob:v"), null);
  });
});

describe("leaving", () => {
  it("sends disconnect, leaves the channel and closes the socket", () => {
    const client = makeClient();
    client.join();
    connect(client);
    const channel = socket.last;
    client.leave();
    assert.deepEqual(channel.sentEvents().at(-1), { type: "disconnect" });
    assert.equal(channel.left, true);
    assert.equal(socket.disconnected, true);
    assert.equal(lastSession().closed, true);
    assert.equal(client.state.status, "left");
  });
});
