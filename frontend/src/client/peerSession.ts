/**
 * One RTCPeerConnection to the room's SFU, for one server-side peer. The client always
 * offers: the server's `offerData` says how many tracks it will send, the client answers
 * with an offer (sendonly for its own tracks, recvonly for the server's), the server
 * replies `sdpAnswer` with the mid -> track id mapping. A rejoin means a new server-side
 * peer, so a session is never reused across joins.
 */

import {
  candidateEvent,
  type ClientEvent,
  type IceCandidateData,
  renegotiateTracksEvent,
  sdpOfferEvent,
  type TracksTypes,
  updateTrackMetadataEvent,
} from "../protocol/mediaEvents";
import type { TrackMetadata } from "../protocol/metadata";
import {
  DEFAULT_BITRATES,
  localMidToTrackId,
  type MediaKind,
  OfferPlan,
  preferredCodecs,
  recvonlyToAdd,
  remoteTracksByMid,
  type TransceiverView,
} from "./negotiation";

export interface PublishedTrack {
  readonly trackId: string;
  readonly track: MediaStreamTrack;
  readonly stream: MediaStream;
  metadata: TrackMetadata;
}

export interface SessionCallbacks {
  send(event: ClientEvent): void;
  onRemoteTrack(trackId: string, track: MediaStreamTrack): void;
  onConnected(): void;
  onFailed(reason: string): void;
}

/** The part of a session RoomClient uses; tests substitute fakes. */
export interface SessionLike {
  publish(tracks: readonly PublishedTrack[]): void;
  unpublish(trackId: string): void;
  updateMetadata(trackId: string, metadata: TrackMetadata): void;
  /** Sends the metadata of every acknowledged track again (after a resume: changes made
   * while the channel was down were not sent). */
  resendMetadata(): void;
  onOfferData(tracksTypes: TracksTypes): void;
  onSdpAnswer(sdp: string, midToTrackId: Record<string, string>): void;
  onCandidate(candidate: IceCandidateData): void;
  readonly connection: RTCPeerConnection | null;
  close(): void;
}

type Negotiation = "new" | "offered" | "done";

interface LocalEntry {
  published: PublishedTrack;
  transceiver: RTCRtpTransceiver | null;
  negotiation: Negotiation;
  /** The metadata sent with the last offer, to resend what changed meanwhile. */
  offeredMetadata: TrackMetadata | null;
}

/** How long ICE may stay "disconnected" before the session counts as failed (ms). */
const DISCONNECTED_GRACE_MS = 8000;

export class PeerSession implements SessionLike {
  private pc: RTCPeerConnection | null = null;
  private readonly local = new Map<string, LocalEntry>();
  private remoteByMid = new Map<string, string>();
  private readonly delivered = new Map<string, string>();
  private queue: Promise<void> = Promise.resolve();
  private disconnectedTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly config: RTCConfiguration,
    private readonly callbacks: SessionCallbacks,
  ) {}

  get connection(): RTCPeerConnection | null {
    return this.pc;
  }

  publish(tracks: readonly PublishedTrack[]): void {
    if (tracks.length === 0) return;
    for (const published of tracks) {
      this.local.set(published.trackId, { published, transceiver: null, negotiation: "new", offeredMetadata: null });
    }
    this.callbacks.send(renegotiateTracksEvent());
  }

  unpublish(trackId: string): void {
    const entry = this.local.get(trackId);
    if (!entry) return;
    this.local.delete(trackId);
    if (entry.transceiver && this.pc && this.pc.signalingState !== "closed") {
      // removeTrack turns a sendonly transceiver inactive; the next offer lacks its mid in
      // midToTrackId, which tells the server the track is gone.
      this.pc.removeTrack(entry.transceiver.sender);
    }
    this.callbacks.send(renegotiateTracksEvent());
  }

  updateMetadata(trackId: string, metadata: TrackMetadata): void {
    const entry = this.local.get(trackId);
    if (!entry) return;
    entry.published.metadata = metadata;
    // A track the server has not acknowledged gets its metadata from the offer or, when an
    // offer is in flight, right after the answer.
    if (entry.negotiation === "done") this.callbacks.send(updateTrackMetadataEvent(trackId, metadata));
  }

  resendMetadata(): void {
    for (const entry of this.local.values()) {
      const { trackId, metadata } = entry.published;
      if (entry.negotiation === "done") this.callbacks.send(updateTrackMetadataEvent(trackId, metadata));
    }
  }

  onOfferData(tracksTypes: TracksTypes): void {
    this.enqueue(() => this.makeOffer(tracksTypes));
  }

  onSdpAnswer(sdp: string, midToTrackId: Record<string, string>): void {
    this.enqueue(() => this.applyAnswer(sdp, midToTrackId));
  }

  onCandidate(candidate: IceCandidateData): void {
    this.enqueue(async () => {
      if (!this.pc || !this.pc.remoteDescription) return;
      await this.pc.addIceCandidate({
        candidate: candidate.candidate,
        sdpMLineIndex: candidate.sdpMLineIndex ?? 0,
        sdpMid: candidate.sdpMid,
        usernameFragment: candidate.usernameFragment,
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearDisconnectedTimer();
    this.pc?.close();
  }

  private enqueue(step: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.closed) return;
      try {
        await step();
      } catch (error) {
        if (!this.closed) this.callbacks.onFailed(`negotiation failed: ${String(error)}`);
      }
    });
  }

  private ensureConnection(): RTCPeerConnection {
    if (this.pc) return this.pc;
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", ...this.config });
    pc.onicecandidate = (event) => {
      if (!event.candidate || !event.candidate.candidate) return;
      this.callbacks.send(
        candidateEvent({
          candidate: event.candidate.candidate,
          sdpMLineIndex: event.candidate.sdpMLineIndex,
          sdpMid: event.candidate.sdpMid,
          usernameFragment: event.candidate.usernameFragment,
        }),
      );
    };
    pc.ontrack = () => this.deliverRemoteTracks();
    pc.onconnectionstatechange = () => this.onConnectionState(pc.connectionState);
    this.pc = pc;
    return pc;
  }

  private onConnectionState(state: RTCPeerConnectionState): void {
    if (this.closed) return;
    if (state === "failed") {
      this.callbacks.onFailed("media connection failed");
    } else if (state === "disconnected") {
      this.disconnectedTimer ??= setTimeout(() => {
        this.disconnectedTimer = null;
        if (!this.closed && this.pc?.connectionState !== "connected") {
          this.callbacks.onFailed("media connection lost");
        }
      }, DISCONNECTED_GRACE_MS);
    } else {
      this.clearDisconnectedTimer();
      if (state === "connected") this.callbacks.onConnected();
    }
  }

  private clearDisconnectedTimer(): void {
    if (this.disconnectedTimer !== null) clearTimeout(this.disconnectedTimer);
    this.disconnectedTimer = null;
  }

  private views(pc: RTCPeerConnection): TransceiverView[] {
    const byTransceiver = new Map<RTCRtpTransceiver, string>();
    for (const entry of this.local.values()) {
      if (entry.transceiver) byTransceiver.set(entry.transceiver, entry.published.trackId);
    }
    return pc.getTransceivers().map((transceiver) => ({
      mid: transceiver.mid,
      kind: transceiverKind(transceiver),
      direction: transceiver.direction,
      localTrackId: byTransceiver.get(transceiver) ?? null,
    }));
  }

  private async makeOffer(tracksTypes: TracksTypes): Promise<void> {
    const pc = this.ensureConnection();
    const plan = new OfferPlan(pc.getTransceivers().map(transceiverKind));
    for (const entry of this.local.values()) {
      const kind = kindOf(entry.published.track);
      if (entry.transceiver || !plan.canAdd(kind)) continue;
      const { track, stream } = entry.published;
      entry.transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
      plan.add(kind);
      preferCodecs(entry.transceiver, kind);
    }
    const missing = recvonlyToAdd(this.views(pc), tracksTypes);
    for (const kind of ["audio", "video"] as const) {
      for (let i = 0; i < missing[kind] && plan.canAdd(kind); i += 1) {
        preferCodecs(pc.addTransceiver(kind, { direction: "recvonly" }), kind);
        plan.add(kind);
      }
    }
    // No restartIce() here: the aiortc server cannot follow ICE restarts.
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const trackIdToTrackMetadata: Record<string, TrackMetadata> = {};
    const trackIdToTrackBitrates: Record<string, number> = {};
    for (const entry of this.local.values()) {
      if (!entry.transceiver) continue;
      const { trackId, track, metadata } = entry.published;
      trackIdToTrackMetadata[trackId] = metadata;
      trackIdToTrackBitrates[trackId] = DEFAULT_BITRATES[kindOf(track)];
      if (entry.negotiation === "new") entry.negotiation = "offered";
      entry.offeredMetadata = metadata;
    }
    this.callbacks.send(
      sdpOfferEvent({
        sdpOffer: { type: "offer", sdp: pc.localDescription?.sdp ?? offer.sdp ?? "" },
        trackIdToTrackMetadata,
        trackIdToTrackBitrates,
        midToTrackId: localMidToTrackId(this.views(pc)),
      }),
    );
  }

  private async applyAnswer(sdp: string, midToTrackId: Record<string, string>): Promise<void> {
    const pc = this.pc;
    if (!pc || pc.signalingState !== "have-local-offer") return;
    this.remoteByMid = remoteTracksByMid(midToTrackId, new Set(this.local.keys()));
    await pc.setRemoteDescription({ type: "answer", sdp });
    this.deliverRemoteTracks();
    for (const entry of this.local.values()) {
      if (entry.negotiation !== "offered") continue;
      entry.negotiation = "done";
      const { trackId, metadata } = entry.published;
      if (entry.offeredMetadata !== metadata) this.callbacks.send(updateTrackMetadataEvent(trackId, metadata));
    }
    // Tracks the offer plan held back go out in another round.
    if ([...this.local.values()].some((entry) => entry.transceiver === null)) {
      this.callbacks.send(renegotiateTracksEvent());
    }
  }

  /** Reports each receiving transceiver's track under the track id its mid now carries. */
  private deliverRemoteTracks(): void {
    if (!this.pc) return;
    for (const transceiver of this.pc.getTransceivers()) {
      const mid = transceiver.mid;
      if (mid === null || transceiver.direction !== "recvonly") continue;
      const trackId = this.remoteByMid.get(mid);
      if (trackId === undefined || this.delivered.get(mid) === trackId) continue;
      this.delivered.set(mid, trackId);
      this.callbacks.onRemoteTrack(trackId, transceiver.receiver.track);
    }
  }
}

function transceiverKind(transceiver: RTCRtpTransceiver): MediaKind {
  return transceiver.receiver.track.kind === "audio" ? "audio" : "video";
}

function kindOf(track: MediaStreamTrack): MediaKind {
  return track.kind === "audio" ? "audio" : "video";
}

function preferCodecs(transceiver: RTCRtpTransceiver, kind: MediaKind): void {
  const capabilities = typeof RTCRtpReceiver.getCapabilities === "function" ? RTCRtpReceiver.getCapabilities(kind) : null;
  if (!capabilities || typeof transceiver.setCodecPreferences !== "function") return;
  try {
    transceiver.setCodecPreferences(preferredCodecs(kind, capabilities.codecs));
  } catch {
    // Older browsers reject some orderings; the server still picks VP8/Opus from the offer.
  }
}
