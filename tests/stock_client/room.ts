/**
 * A participant written the way the Membrane videoroom's room.ts is written, against the
 * stock client from npm (`membrane-webrtc-js` is aliased to one pinned version at build
 * time): `socket.channel("room:" + id)` with no join params, the display name only in
 * `connect` metadata, every local track added with the metadata from `?meta=`
 * (`empty` -> `{}`, `custom` -> `{type, active}` as the React videoroom).
 *
 * Nothing here changes the client. The RTCPeerConnection constructor is wrapped only to
 * observe: the configuration the client asked for, and the connection for getStats.
 */

import { Socket } from "phoenix";
import { WebRTCEndpoint } from "membrane-webrtc-js";

interface Observed {
  endpointId: string | null;
  endpoints: Record<string, string>; // id -> displayName
  remote: { endpointId: string; trackId: string; kind: string }[];
  removedEndpoints: string[];
  errors: string[];
  configs: RTCConfiguration[];
  connections: RTCPeerConnection[];
  joinReply: unknown;
}

const observed: Observed = {
  endpointId: null,
  endpoints: {},
  remote: [],
  removedEndpoints: [],
  errors: [],
  configs: [],
  connections: [],
  joinReply: null,
};

const NativePeerConnection = window.RTCPeerConnection;
window.RTCPeerConnection = class extends NativePeerConnection {
  constructor(config?: RTCConfiguration) {
    super(config);
    observed.configs.push(JSON.parse(JSON.stringify(config ?? {})));
    observed.connections.push(this);
  }
} as typeof RTCPeerConnection;

const query = new URLSearchParams(location.search);
const roomId = query.get("room") ?? "";
const displayName = query.get("name") ?? "";
const customMetadata = query.get("meta") === "custom";

const socket = new Socket("/socket");
socket.connect();
const channel = socket.channel(`room:${roomId}`);
const webrtc = new WebRTCEndpoint();
let localStream: MediaStream | null = null;

webrtc.on("sendMediaEvent", (event: string) => {
  channel.push("mediaEvent", { data: event });
});
channel.on("mediaEvent", (event: { data: string }) => webrtc.receiveMediaEvent(event.data));
webrtc.on("connectionError", (message: unknown) => observed.errors.push(String(message)));

webrtc.on("connected", (endpointId: string, otherEndpoints: { id: string; metadata: any }[]) => {
  observed.endpointId = endpointId;
  for (const endpoint of otherEndpoints) observed.endpoints[endpoint.id] = endpoint.metadata?.displayName;
  for (const track of localStream!.getTracks()) {
    const metadata = customMetadata ? { type: track.kind === "audio" ? "audio" : "camera", active: true } : {};
    // 0.5.3 returns the track id, 0.7.1 a promise of it.
    void Promise.resolve(webrtc.addTrack(track, localStream!, metadata)).catch((error: unknown) =>
      observed.errors.push(`addTrack: ${String(error)}`),
    );
  }
});

webrtc.on("endpointAdded", (endpoint: { id: string; metadata: any }) => {
  observed.endpoints[endpoint.id] = endpoint.metadata?.displayName;
});

webrtc.on("endpointRemoved", (endpoint: { id: string }) => {
  delete observed.endpoints[endpoint.id];
  observed.removedEndpoints.push(endpoint.id);
  observed.remote = observed.remote.filter((r) => r.endpointId !== endpoint.id);
  document.querySelectorAll(`[data-endpoint="${endpoint.id}"]`).forEach((element) => element.remove());
});

webrtc.on("trackReady", (ctx: { stream: MediaStream | null; track: MediaStreamTrack | null; endpoint: { id: string }; trackId: string }) => {
  const track = ctx.track!;
  observed.remote.push({ endpointId: ctx.endpoint.id, trackId: ctx.trackId, kind: track.kind });
  const element = document.createElement(track.kind === "audio" ? "audio" : "video");
  element.dataset.endpoint = ctx.endpoint.id;
  element.autoplay = true;
  (element as HTMLVideoElement).muted = track.kind !== "audio";
  element.srcObject = new MediaStream([track]);
  document.body.appendChild(element);
});

async function start(): Promise<void> {
  localStream = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: 640, height: 360, frameRate: 24 },
  });
  await new Promise<void>((resolve, reject) => {
    channel
      .join()
      .receive("ok", (reply: unknown) => {
        observed.joinReply = reply;
        resolve();
      })
      .receive("error", (reply: unknown) => reject(new Error(`join refused: ${JSON.stringify(reply)}`)));
  });
  webrtc.connect({ displayName });
}

function leave(): void {
  webrtc.disconnect();
  channel.leave();
  socket.disconnect();
}

async function inbound(): Promise<{ kind: string; framesDecoded: number; packetsReceived: number }[]> {
  const pc = observed.connections.at(-1);
  if (!pc) return [];
  const result: { kind: string; framesDecoded: number; packetsReceived: number }[] = [];
  (await pc.getStats()).forEach((s: any) => {
    if (s.type === "inbound-rtp") {
      result.push({ kind: s.kind, framesDecoded: s.framesDecoded ?? 0, packetsReceived: s.packetsReceived ?? 0 });
    }
  });
  return result;
}

/** Types of the local candidates of the selected pair ("relay" when through TURN). */
async function selectedLocalCandidate(): Promise<{ candidateType: string; relayProtocol: string | null } | null> {
  const pc = observed.connections.at(-1);
  if (!pc) return null;
  const stats = await pc.getStats();
  let found: { candidateType: string; relayProtocol: string | null } | null = null;
  stats.forEach((s: any) => {
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
      const local = stats.get(s.localCandidateId);
      if (local) found = { candidateType: local.candidateType, relayProtocol: local.relayProtocol ?? null };
    }
  });
  return found;
}

(window as unknown as { stock: unknown }).stock = { observed, inbound, selectedLocalCandidate, leave };
start().catch((error: unknown) => observed.errors.push(`start: ${String(error)}`));
