// Drives a running videoroom server with the official phoenix npm client, unchanged,
// over the `ws` package (Node 20 has no global WebSocket).
//
// Usage: node phoenix_client.mjs '<json config>'
//   config: {url, origin, room, fullRoom, lockedRoom, missingRoom, timeoutMs}
// Prints one JSON object with what was observed; the pytest side asserts on it.

import { Socket } from "phoenix";
import WebSocket from "ws";

const config = JSON.parse(process.argv[2]);
const TIMEOUT_MS = config.timeoutMs ?? 20000;

// Browsers send Origin by themselves; the server checks it against ALLOWED_HOSTS.
class OriginWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { origin: config.origin });
  }
}

// A browser of a logged-in user sends the site's session cookie on the handshake.
function cookieTransport(cookie) {
  return class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { origin: config.origin, headers: { cookie } });
    }
  };
}

// A PIN check is a password-hasher run (~1 s on a loaded machine) during which the
// socket answers nothing, heartbeats included: sockets that try PINs keep Phoenix's
// default 30 s heartbeat, as browsers do, instead of the 500 ms of the heartbeat test.
function openSocket(transport = OriginWebSocket, heartbeatIntervalMs = 500) {
  const socket = new Socket(config.url, {
    transport,
    heartbeatIntervalMs,
    // This script reports what happens; it must not retry behind our back.
    reconnectAfterMs: () => 600000,
    rejoinAfterMs: () => 600000,
  });
  socket.frames = [];
  socket.onMessage((message) => socket.frames.push(message));
  socket.connect();
  return socket;
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function join(channel) {
  return new Promise((resolve) => {
    channel
      .join(TIMEOUT_MS)
      .receive("ok", (response) => resolve({ status: "ok", response }))
      .receive("error", (response) => resolve({ status: "error", response }))
      .receive("timeout", () => resolve({ status: "timeout" }));
  });
}

// Collects a channel's mediaEvent pushes (their data parsed) and waits for one.
function mediaEvents(channel) {
  const events = [];
  const waiters = [];
  channel.on("mediaEvent", ({ data }) => {
    events.push(JSON.parse(data));
    for (const waiter of [...waiters]) waiter();
  });
  return {
    events,
    waitFor(predicate, what) {
      return withTimeout(
        new Promise((resolve) => {
          const check = () => {
            const found = events.find(predicate);
            if (found) {
              waiters.splice(waiters.indexOf(check), 1);
              resolve(found);
            }
          };
          waiters.push(check);
          check();
        }),
        what,
      );
    },
  };
}

function connectEvent(displayName) {
  return { data: JSON.stringify({ type: "connect", data: { metadata: { displayName } } }) };
}

async function waitUntil(predicate, what) {
  await withTimeout(
    (async () => {
      while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 50));
    })(),
    what,
  );
}

// Two peers in one room: join, media events through the Room, heartbeats, leave.
async function roomScenario() {
  const ann = openSocket();
  const bob = openSocket();
  const topic = `room:${config.room}`;
  const annChannel = ann.channel(topic, { displayName: "Ann", isSimulcastOn: false });
  const bobChannel = bob.channel(topic, { displayName: "Bob" });
  const annEvents = mediaEvents(annChannel);
  const bobEvents = mediaEvents(bobChannel);
  const result = {};

  result.annJoin = await join(annChannel);
  result.bobJoin = await join(bobChannel);

  annChannel.push("mediaEvent", connectEvent("Ann"));
  result.annConnected = await annEvents.waitFor((e) => e.type === "connected", "Ann connected");
  bobChannel.push("mediaEvent", connectEvent("Bob"));
  result.bobConnected = await bobEvents.waitFor((e) => e.type === "connected", "Bob connected");
  result.annSawEndpointAdded = await annEvents.waitFor(
    (e) => e.type === "endpointAdded",
    "endpointAdded on Ann",
  );

  result.pingRttMs = await withTimeout(new Promise((resolve) => ann.ping(resolve)), "ping");
  await waitUntil(
    () => ann.frames.filter((f) => f.topic === "phoenix" && f.event === "phx_reply").length >= 3,
    "heartbeat replies",
  );
  result.heartbeatReplies = ann.frames.filter(
    (f) => f.topic === "phoenix" && f.event === "phx_reply",
  ).length;

  const bobJoinRef = bobChannel.joinRef();
  result.bobLeave = await withTimeout(
    new Promise((resolve) => {
      bobChannel
        .leave(TIMEOUT_MS)
        .receive("ok", () => resolve("ok"))
        .receive("timeout", () => resolve("timeout"));
    }),
    "leave reply",
  );
  await waitUntil(
    () => bob.frames.some((f) => f.event === "phx_close" && f.join_ref === bobJoinRef),
    "phx_close after leave",
  );
  result.bobGotPhxClose = true;
  result.annSawEndpointRemoved = await annEvents.waitFor(
    (e) => e.type === "endpointRemoved",
    "endpointRemoved on Ann",
  );

  annChannel.leave();
  ann.disconnect();
  bob.disconnect();
  return result;
}

async function firstJoinReply(socket, topic, params) {
  const channel = socket.channel(topic, params);
  const reply = await join(channel);
  // A refused join is retried forever by the client unless the app leaves.
  channel.leave();
  return reply;
}

// Every join refusal a client can get, as the client's receive("error") hook sees it.
async function refusalsScenario() {
  const socket = openSocket();
  const holder = openSocket();
  const result = {};
  result.fullHolder = await join(holder.channel(`room:${config.fullRoom}`, { displayName: "Ann" }));
  result.full = await firstJoinReply(socket, `room:${config.fullRoom}`, { displayName: "Bob" });
  result.locked = await firstJoinReply(socket, `room:${config.lockedRoom}`, { displayName: "Bob" });
  result.missing = await firstJoinReply(socket, `room:${config.missingRoom}`, {
    displayName: "Bob",
  });
  result.invalidParams = await firstJoinReply(socket, `room:${config.room}`, { displayName: 7 });
  result.invalidRoom = await firstJoinReply(socket, "room:not a name", { displayName: "Bob" });
  holder.disconnect();
  socket.disconnect();
  return result;
}

// Each join policy's answers (config.policies names the rooms and credentials).
async function policiesScenario() {
  const p = config.policies;
  const socket = openSocket(OriginWebSocket, 30000);
  const result = {};
  const reply = (room, params) => firstJoinReply(socket, `room:${room}`, { displayName: "Ann", ...params });
  result.pinMissing = await reply(p.pinRoom, {});
  result.pinWrong = await reply(p.pinRoom, { pin: "0000" });
  result.pinRight = await reply(p.pinRoom, { pin: p.pin });
  for (let i = 0; i < p.attemptsPerMinute - 1; i += 1) await reply(p.pinRoom, { pin: `9${i}` });
  result.pinRateLimited = await reply(p.pinRoom, { pin: p.pin });
  result.tokenMissing = await reply(p.tokenRoom, {});
  result.tokenValid = await reply(p.tokenRoom, { token: p.token });
  result.tokenTampered = await reply(p.tokenRoom, { token: p.tamperedToken });
  result.tokenExpired = await reply(p.tokenRoom, { token: p.expiredToken });
  result.tokenOtherRoom = await reply(p.tokenRoom, { token: p.otherRoomToken });
  result.tokenCreates = await reply(p.newRoom, { token: p.newRoomToken });
  result.usersAnonymous = await reply(p.usersRoom, {});
  socket.disconnect();
  const member = openSocket(cookieTransport(p.memberCookie));
  result.usersMember = await firstJoinReply(member, `room:${p.usersRoom}`, { displayName: "Ann" });
  member.disconnect();
  const stranger = openSocket(cookieTransport(p.strangerCookie));
  result.usersStranger = await firstJoinReply(stranger, `room:${p.usersRoom}`, { displayName: "Eve" });
  stranger.disconnect();
  return result;
}

async function main() {
  const output = {};
  try {
    if (config.only !== "policies") {
      output.room = await roomScenario();
      output.refusals = await refusalsScenario();
    }
    if (config.policies) output.policies = await policiesScenario();
  } catch (error) {
    output.error = String(error && error.stack ? error.stack : error);
  }
  process.stdout.write(JSON.stringify(output) + "\n");
  process.exit(0);
}

main();
