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

function openSocket() {
  const socket = new Socket(config.url, {
    transport: OriginWebSocket,
    heartbeatIntervalMs: 500,
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

async function main() {
  const output = {};
  try {
    output.room = await roomScenario();
    output.refusals = await refusalsScenario();
  } catch (error) {
    output.error = String(error && error.stack ? error.stack : error);
  }
  process.stdout.write(JSON.stringify(output) + "\n");
  process.exit(0);
}

main();
