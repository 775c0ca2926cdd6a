import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MESSAGES, RoomClient } from "../src/client/roomClient";
import { FakeSession, FakeSocket, fakeStream, fakeTrack } from "./fakes";

let socket: FakeSocket;
let sessions: FakeSession[];
let ids: number;

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
    newId: () => `id${++ids}`,
    mediaRetryDelaysMs: [0, 50],
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
  expect(client.state.status).toBe("connected");
}

beforeEach(() => {
  socket = new FakeSocket();
  sessions = [];
  ids = 0;
});

afterEach(() => {
  vi.useRealTimers();
});

describe("joining", () => {
  it("joins room:<name> with the display name and sends connect after the join reply", () => {
    const client = makeClient();
    client.join();
    expect(socket.connected).toBe(true);
    expect(socket.last.topic).toBe("room:demo");
    expect(socket.last.params).toEqual({ displayName: "Ann" });
    expect(client.state.status).toBe("connecting");
    socket.last.joinPush.reply("ok", { peerId: "p1", iceServers: [] });
    expect(socket.last.sentEvents()).toEqual([{ type: "connect", data: { metadata: { displayName: "Ann" } } }]);
    expect(lastSession().config).toEqual({ iceServers: [] });
  });

  it("uses the ICE servers from the join reply", () => {
    const client = makeClient();
    client.join();
    connect(client);
    expect(lastSession().config).toEqual({ iceServers: [{ urls: "stun:example.org" }] });
  });

  it("publishes local tracks with <endpointId>:<uuid> ids after connected", () => {
    const client = makeClient();
    const mic = fakeTrack("audio", false);
    client.setLocalTrack("microphone", mic, fakeStream);
    client.setLocalTrack("camera", fakeTrack("video"), fakeStream);
    client.join();
    connect(client);
    expect(lastSession().published.map((t) => [t.trackId, t.metadata])).toEqual([
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
    expect(session.offers).toEqual([{ audio: 1, video: 1 }]);
    expect(session.answers).toEqual([{ sdp: "v=0", midToTrackId: { "0": "x:1" } }]);
    expect(session.candidates).toHaveLength(1);
  });
});

describe("join errors", () => {
  it.each([
    ["room full", /full/],
    ["room locked", /locked/],
    ["room not found", /does not exist/],
  ])("stops the endless rejoin on %s and explains it", (reason, message) => {
    const client = makeClient();
    client.join();
    const channel = socket.last;
    channel.joinPush.reply("error", { reason });
    expect(channel.left).toBe(true);
    expect(client.state.status).toBe("failed");
    expect(client.state.message).toMatch(message);
    // A later rejoin reply of the abandoned channel changes nothing.
    channel.joinPush.reply("ok", { peerId: "late" });
    expect(client.state.status).toBe("failed");
    expect(sessions).toHaveLength(0);
  });

  it("lets the phoenix client retry when the room is unavailable", () => {
    const client = makeClient();
    client.join();
    const channel = socket.last;
    channel.joinPush.reply("error", { reason: "room unavailable" });
    expect(channel.left).toBe(false);
    expect(client.state.status).toBe("reconnecting");
    connect(client);
    expect(socket.channels).toHaveLength(1);
  });

  it("shows reconnecting on a join timeout", () => {
    const client = makeClient();
    client.join();
    socket.last.joinPush.reply("timeout");
    expect(client.state).toMatchObject({ status: "reconnecting", message: expect.stringMatching(/Retrying/) });
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
    expect(first.closed).toBe(true);
    expect(client.state).toMatchObject({ status: "reconnecting", message: MESSAGES.reconnecting, endpoints: {} });
    connect(client, "p2");
    const second = lastSession();
    expect(second).not.toBe(first);
    expect(second.published.map((t) => t.trackId)).toEqual(["p2:id2"]);
    expect(socket.channels).toHaveLength(1);
  });

  it("shows reconnecting when the socket drops", () => {
    const client = makeClient();
    client.join();
    connect(client);
    socket.triggerError();
    expect(client.state.status).toBe("reconnecting");
    expect(lastSession().closed).toBe(true);
  });

  it("rejoins on a fresh channel when the media connection fails", async () => {
    vi.useFakeTimers();
    const client = makeClient();
    client.join();
    connect(client);
    const channel = socket.last;
    lastSession().callbacks.onFailed("media connection failed");
    expect(channel.left).toBe(true);
    expect(client.state).toMatchObject({ status: "reconnecting", message: MESSAGES.mediaFailed });
    await vi.runAllTimersAsync();
    expect(socket.channels).toHaveLength(2);
    connect(client, "p2");
    expect(sessions).toHaveLength(2);
  });

  it("rejoins when the server refuses its offer, but not for other errors", async () => {
    vi.useFakeTimers();
    const client = makeClient();
    client.join();
    connect(client);
    socket.last.serverEvent({ type: "error", data: { message: "unknown track 'x'" } });
    expect(client.state.status).toBe("connected");
    socket.last.serverEvent({ type: "error", data: { message: "invalid sdpOffer: no VP8" } });
    expect(client.state).toMatchObject({ status: "reconnecting", message: MESSAGES.mediaFailed });
    await vi.runAllTimersAsync();
    expect(socket.channels).toHaveLength(2);
  });

  it("ignores events of a channel it has abandoned", async () => {
    vi.useFakeTimers();
    const client = makeClient();
    client.join();
    connect(client);
    const old = socket.last;
    lastSession().callbacks.onFailed("media connection failed");
    await vi.runAllTimersAsync();
    old.triggerClose();
    old.serverEvent({ type: "endpointAdded", data: { id: "ghost", type: "webrtc", metadata: {} } });
    expect(client.state.status).toBe("reconnecting");
    expect(client.state.endpoints).toEqual({});
  });

  it("treats a server close as final", () => {
    const client = makeClient();
    client.join();
    connect(client);
    socket.last.triggerClose();
    expect(client.state).toMatchObject({ status: "closed", message: MESSAGES.closed });
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
    expect(mic.enabled).toBe(false);
    expect(lastSession().metadataUpdates).toEqual([{ trackId: "p1:id1", metadata: { type: "microphone", active: false } }]);
    expect(client.localTrack("microphone")?.active).toBe(false);
  });

  it("publishes a screen share while connected and unpublishes it when stopped", () => {
    const client = makeClient();
    client.join();
    connect(client);
    client.setLocalTrack("screensharing", fakeTrack("video"), fakeStream);
    expect(lastSession().published.map((t) => [t.trackId, t.metadata.type])).toEqual([["p1:id1", "screensharing"]]);
    client.setLocalTrack("screensharing", null);
    expect(lastSession().unpublished).toEqual(["p1:id1"]);
    expect(client.localTrack("screensharing")).toBeNull();
  });

  it("keeps remote media per track id and drops it on tracksRemoved", () => {
    const client = makeClient();
    client.join();
    connect(client, "p1", [{ id: "bob", metadata: { displayName: "Bob" }, tracks: { "bob:v": { metadata: { type: "camera", active: true } } } }]);
    const video = fakeTrack("video");
    lastSession().callbacks.onRemoteTrack("bob:v", video);
    expect(client.remoteTrack("bob:v")).toBe(video);
    socket.last.serverEvent({ type: "tracksRemoved", data: { endpointId: "bob", trackIds: ["bob:v"] } });
    expect(client.remoteTrack("bob:v")).toBeNull();
  });
});

describe("leaving", () => {
  it("sends disconnect, leaves the channel and closes the socket", () => {
    const client = makeClient();
    client.join();
    connect(client);
    const channel = socket.last;
    client.leave();
    expect(channel.sentEvents().at(-1)).toEqual({ type: "disconnect" });
    expect(channel.left).toBe(true);
    expect(socket.disconnected).toBe(true);
    expect(lastSession().closed).toBe(true);
    expect(client.state.status).toBe("left");
  });
});
