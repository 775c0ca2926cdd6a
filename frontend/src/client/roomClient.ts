/**
 * A room from the browser's side: the Phoenix channel `room:<name>` (joined through the
 * phoenix npm client, which also reconnects the socket and rejoins the channel), the
 * media-event dialect, and one PeerSession per server-side peer.
 *
 * Recovery: the join asks to be `resumable`, and its reply carries a resume secret. When
 * the socket breaks (a web process died, the network blinked) the media session is kept:
 * media flows browser <-> room worker without the web process. The phoenix client's rejoin
 * then carries `resume: <secret>` (params are a function, evaluated at each join), and the
 * server re-attaches the same peer: same id, same RTCPeerConnection; it resends the room
 * (`connected`) and opens a new negotiation round. If it refuses (`resume refused`), or the
 * server itself ended the peer (phx_error on a live socket), the next join is a fresh one:
 * a new server-side peer, a fresh session, the local tracks republished under new ids.
 * A final join error stops the phoenix client's endless rejoin; a failed media connection
 * rejoins on a new channel.
 */

import {
  classifyJoinError,
  JOIN_TIMEOUT_FAILURE,
  type JoinFailure,
  parseJoinOk,
  parseMediaEventPayload,
} from "../protocol/channelPayloads";
import {
  type ClientEvent,
  connectEvent,
  disconnectEvent,
  moderateTrackEvent,
  parseServerEvent,
  removePeerEvent,
  serializeClientEvent,
  type ServerEvent,
} from "../protocol/mediaEvents";
import type { TrackType } from "../protocol/metadata";
import { type LocalTrack, LocalTracks } from "./localTracks";
import { PeerSession, type SessionCallbacks, type SessionLike } from "./peerSession";
import type { ChannelLike, SocketLike } from "./phoenixTypes";
import { endpointOfTrack } from "./negotiation";
import {
  canModerate,
  findTrack,
  initialRoomState,
  isFinal,
  type RoomAction,
  roomReducer,
  type RoomState,
} from "./roomState";

export interface RoomClientOptions {
  readonly roomName: string;
  readonly displayName: string;
  readonly socket: SocketLike;
  readonly createSession?: (config: RTCConfiguration, callbacks: SessionCallbacks) => SessionLike;
  readonly newId?: () => string;
  /** Media only through the TURN servers of the join reply (`?relay=1`, for locked-down networks). */
  readonly relayOnly?: boolean;
  /** A signed join token (rooms.tokens), from the URL or the embedding page: the `token` join parameter. */
  readonly token?: string | null;
  /** Delays before rejoining after a media failure, by consecutive failure (ms). */
  readonly mediaRetryDelaysMs?: readonly number[];
  readonly log?: (message: string) => void;
  /** Sees every media event in ("in") and out ("out"), for troubleshooting. */
  readonly trace?: (direction: "in" | "out", json: string) => void;
}

export const MESSAGES = {
  reconnecting: "Connection lost. Reconnecting...",
  mediaFailed: "Media connection lost. Reconnecting...",
  closed: "The room was closed or you were removed from it.",
} as const;

type Listener = () => void;

export type { LocalTrack };

export class RoomClient {
  private currentState: RoomState = initialRoomState;
  private readonly listeners = new Set<Listener>();
  private channel: ChannelLike | null = null;
  private session: SessionLike | null = null;
  private readonly local = new LocalTracks();
  /** Received media by endpoint id, then track id: a track id alone never selects it. */
  private readonly remoteMedia = new Map<string, Map<string, MediaStreamTrack>>();
  private mediaFailures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private socketStarted = false;
  /** The secret of the current server-side peer, while its session can be resumed. */
  private resumeSecret: string | null = null;
  /** The channel is joined: media events sent now reach the current peer. */
  private channelJoined = false;
  private pin = "";

  constructor(private readonly options: RoomClientOptions) {}

  get state(): RoomState {
    return this.currentState;
  }

  /** The current RTCPeerConnection, for stats and diagnostics. */
  get connection(): RTCPeerConnection | null {
    return this.session?.connection ?? null;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  remoteTrack(endpointId: string, trackId: string): MediaStreamTrack | null {
    return this.remoteMedia.get(endpointId)?.get(trackId) ?? null;
  }

  localTrack(type: TrackType): LocalTrack | null {
    return this.local.get(type);
  }

  /** Joins again with the room's PIN, after a `pin required` or `wrong pin` refusal. */
  joinWithPin(pin: string): void {
    if (this.currentState.status !== "needsPin") return;
    this.pin = pin;
    this.join();
  }

  join(): void {
    if (this.channel) return;
    this.dispatch({ type: "joinStarted" });
    if (!this.socketStarted) {
      this.socketStarted = true;
      const { socket } = this.options;
      socket.onError(() => this.onSocketLost());
      socket.onClose(() => this.onSocketLost());
      socket.connect();
    }
    this.openChannel();
  }

  leave(): void {
    if (isFinal(this.currentState.status)) return;
    this.send(disconnectEvent());
    this.dropChannel();
    this.dropSession();
    this.clearRetry();
    this.dispatch({ type: "left" });
    this.options.socket.disconnect();
  }

  /** Sets (or with null removes) the local track of one type, published when joined. */
  setLocalTrack(type: TrackType, track: MediaStreamTrack | null, stream?: MediaStream): void {
    const { changed, unpublishId } = this.local.replace(type, track, () => stream ?? new MediaStream(track ? [track] : []));
    if (!changed) return;
    if (unpublishId) this.session?.unpublish(unpublishId);
    if (track && this.currentState.status === "connected") this.publish();
    this.notify();
  }

  /** Mutes/unmutes a local track and tells the others through its metadata. */
  setActive(type: TrackType, active: boolean): void {
    const result = this.local.setActive(type, active);
    if (!result) return;
    if (result.trackId) this.session?.updateMetadata(result.trackId, result.metadata);
    this.notify();
  }

  /** Moderator: mutes (or unmutes) another participant's track for everyone. */
  moderateTrack(endpointId: string, trackId: string, muted: boolean): void {
    if (!canModerate(this.currentState)) return;
    this.send(moderateTrackEvent(endpointId, trackId, muted));
  }

  /** Moderator: removes another participant from the room. */
  removeParticipant(endpointId: string): void {
    if (!canModerate(this.currentState)) return;
    this.send(removePeerEvent(endpointId));
  }

  private openChannel(): void {
    const { socket, roomName, displayName, token } = this.options;
    // A function: the phoenix client evaluates it for every rejoin, so a rejoin after a
    // broken socket resumes the peer while this page still holds its session.
    const channel = socket.channel(`room:${roomName}`, () =>
      this.resumeSecret !== null && this.session !== null
        ? { displayName, resume: this.resumeSecret }
        : { displayName, resumable: true, ...(token ? { token } : {}), ...(this.pin ? { pin: this.pin } : {}) },
    );
    this.channel = channel;
    channel.on("mediaEvent", (payload) => {
      if (channel === this.channel) this.onMediaPayload(payload);
    });
    channel.onError(() => {
      if (channel !== this.channel) return;
      this.channelJoined = false;
      // On a live socket phx_error means the server ended the peer: nothing to resume.
      if (this.options.socket.isConnected()) this.resumeSecret = null;
      this.onConnectionLost(MESSAGES.reconnecting);
    });
    channel.onClose(() => {
      if (channel !== this.channel) return;
      this.dropChannel();
      this.dropSession();
      this.dispatch({ type: "closed", message: MESSAGES.closed });
    });
    channel
      .join()
      .receive("ok", (response) => {
        if (channel === this.channel) this.onJoined(response);
      })
      .receive("error", (response) => {
        if (channel === this.channel) this.onJoinFailure(classifyJoinError(response));
      })
      .receive("timeout", () => {
        if (channel === this.channel) this.onJoinFailure(JOIN_TIMEOUT_FAILURE);
      });
  }

  private onJoined(response: unknown): void {
    let joined;
    try {
      joined = parseJoinOk(response);
    } catch (error) {
      this.log(`bad join reply: ${String(error)}`);
      this.restartChannel(MESSAGES.reconnecting);
      return;
    }
    this.channelJoined = true;
    if (joined.resumed && this.session && joined.peerId === this.currentState.selfId) {
      // Same peer, same media session: the server now resends the room and renegotiates.
      this.resumeSecret = joined.resume;
      this.log("resumed the media session");
      this.session.resendMetadata();
      return;
    }
    this.dropSession();
    this.resumeSecret = joined.resume;
    this.dispatch({ type: "joined", peerId: joined.peerId, grants: joined.grants });
    const create = this.options.createSession ?? ((config, callbacks) => new PeerSession(config, callbacks));
    const session: SessionLike = create(
      { iceServers: joined.iceServers, ...(this.options.relayOnly ? { iceTransportPolicy: "relay" } : {}) },
      {
        send: (event) => {
          if (session === this.session) this.send(event);
        },
        onRemoteTrack: (trackId, track) => {
          if (session !== this.session) return;
          // tracksAdded (which names the endpoint) precedes the answer that maps the track.
          const endpointId = findTrack(this.currentState, trackId)?.endpointId ?? endpointOfTrack(trackId);
          const tracks = this.remoteMedia.get(endpointId) ?? new Map<string, MediaStreamTrack>();
          tracks.set(trackId, track);
          this.remoteMedia.set(endpointId, tracks);
          const before = this.currentState;
          this.dispatch({ type: "remoteMedia", endpointId, trackId, kind: track.kind });
          if (this.currentState === before) this.notify();
        },
        onConnected: () => {
          if (session === this.session) this.mediaFailures = 0;
        },
        onFailed: (reason) => {
          if (session !== this.session) return;
          this.log(reason);
          this.restartChannel(MESSAGES.mediaFailed);
        },
      },
    );
    this.session = session;
    this.send(connectEvent(this.options.displayName));
  }

  private onJoinFailure(failure: JoinFailure): void {
    this.channelJoined = false;
    if (failure.kind === "pin") {
      // Stop the phoenix client's rejoin (it would repeat the same PIN); the page asks.
      this.dropChannel();
      this.dropSession();
      this.dispatch({ type: "pinRequired", message: failure.message });
      return;
    }
    if (failure.kind === "final") {
      // The phoenix client would rejoin forever after an error reply; leaving stops it.
      this.dropChannel();
      this.dropSession();
      this.dispatch({ type: "joinFailed", message: failure.message });
      return;
    }
    this.dropSession();
    this.dispatch({ type: "connectionLost", message: failure.message });
  }

  private onConnectionLost(message: string): void {
    this.channelJoined = false;
    if (this.resumeSecret !== null && this.session !== null) {
      // The media session lives on; the phoenix client's rejoin resumes it.
      this.dispatch({ type: "signalingLost", message });
      return;
    }
    this.dropSession();
    this.dispatch({ type: "connectionLost", message });
  }

  private onSocketLost(): void {
    const status = this.currentState.status;
    if (status === "connected" || status === "connecting") this.onConnectionLost(MESSAGES.reconnecting);
  }

  private onMediaPayload(payload: unknown): void {
    const json = parseMediaEventPayload(payload);
    if (json === null) {
      this.log("mediaEvent push without a data string");
      return;
    }
    this.options.trace?.("in", json);
    const parsed = parseServerEvent(json);
    if (!parsed.ok) {
      if (!parsed.ignored) this.log(`dropped media event: ${parsed.error}`);
      return;
    }
    this.onServerEvent(parsed.event);
  }

  private onServerEvent(event: ServerEvent): void {
    const session = this.session;
    switch (event.type) {
      case "offerData":
        session?.onOfferData(event.data.tracksTypes);
        return;
      case "sdpAnswer":
        session?.onSdpAnswer(event.data.sdp, event.data.midToTrackId);
        return;
      case "candidate":
        session?.onCandidate(event.data);
        return;
      case "error":
        // The server answers a bad event with `error` and leaves the room untouched; only a
        // refused offer leaves this connection unusable.
        this.log(`server error: ${event.data.message}`);
        if (event.data.message.startsWith("invalid sdpOffer")) this.restartChannel(MESSAGES.mediaFailed);
        return;
      case "tracksRemoved": {
        const tracks = this.remoteMedia.get(event.data.endpointId);
        for (const trackId of event.data.trackIds) tracks?.delete(trackId);
        break;
      }
      case "connected":
        // Also the resync after a resume: forget media of endpoints gone meanwhile.
        for (const endpointId of [...this.remoteMedia.keys()]) {
          if (!event.data.otherEndpoints.some((other) => other.id === endpointId)) this.remoteMedia.delete(endpointId);
        }
        break;
      case "endpointRemoved":
        if (event.data.id === this.currentState.selfId) {
          this.dropChannel();
          this.dropSession();
        } else {
          this.remoteMedia.delete(event.data.id);
        }
        break;
      default:
        break;
    }
    this.dispatch({ type: "mediaEvent", event });
    if (event.type === "connected") this.publish();
  }

  /** Publishes every local track not yet published in the current session. */
  private publish(): void {
    const selfId = this.currentState.selfId;
    // Without the publish grant the server refuses any offer naming tracks.
    if (!this.session || !selfId || !this.currentState.grants.includes("publish")) return;
    this.session.publish(this.local.assignIds(selfId, () => this.newId()));
  }

  /** Gives up the current server-side peer and joins again on a fresh channel. */
  private restartChannel(message: string): void {
    this.dropChannel();
    this.dropSession();
    this.dispatch({ type: "connectionLost", message });
    const delays = this.options.mediaRetryDelaysMs ?? [0, 1000, 2000, 5000, 10000];
    const delay = delays[Math.min(this.mediaFailures, delays.length - 1)] ?? 0;
    this.mediaFailures += 1;
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!isFinal(this.currentState.status)) this.openChannel();
    }, delay);
  }

  private dropChannel(): void {
    const channel = this.channel;
    this.channel = null;
    this.channelJoined = false;
    channel?.leave();
  }

  private dropSession(): void {
    this.session?.close();
    this.session = null;
    this.resumeSecret = null;
    this.remoteMedia.clear();
    this.local.forgetIds();
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private send(event: ClientEvent): void {
    const data = serializeClientEvent(event);
    this.options.trace?.("out", data);
    // Not buffered while the channel is down: the resume resends the room and starts a new
    // negotiation round, which stale offers and candidates would only confuse.
    if (this.channelJoined) this.channel?.push("mediaEvent", { data });
  }

  private dispatch(action: RoomAction): void {
    const next = roomReducer(this.currentState, action);
    if (next === this.currentState) return;
    this.currentState = next;
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  private newId(): string {
    if (this.options.newId) return this.options.newId();
    if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  }

  private log(message: string): void {
    (this.options.log ?? ((text: string) => console.warn(`[videoroom] ${text}`)))(message);
  }
}
