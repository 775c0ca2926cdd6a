/**
 * A stand-in for the browser's RTCPeerConnection, enough for PeerSession's negotiation
 * logic: transceivers, mids assigned on setLocalDescription, state changes on demand.
 */

type Kind = "audio" | "video";

export class FakeTransceiver {
  mid: string | null = null;
  readonly receiver: { track: { kind: Kind; id: string } };
  readonly sender: { track: MediaStreamTrack | null };
  codecPreferences: { mimeType: string }[] | null = null;

  constructor(
    kind: Kind,
    public direction: RTCRtpTransceiverDirection,
    track: MediaStreamTrack | null,
  ) {
    this.receiver = { track: { kind, id: `remote-${Math.random()}` } };
    this.sender = { track };
  }

  setCodecPreferences(codecs: { mimeType: string }[]): void {
    this.codecPreferences = codecs;
  }
}

export class FakePeerConnection {
  static instances: FakePeerConnection[] = [];
  readonly transceivers: FakeTransceiver[] = [];
  signalingState: RTCSignalingState = "stable";
  connectionState: RTCPeerConnectionState = "new";
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  restartIceCalls = 0;
  closed = false;
  onicecandidate: ((event: { candidate: unknown }) => void) | null = null;
  ontrack: (() => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  private nextMid = 0;

  constructor(readonly config: RTCConfiguration) {
    FakePeerConnection.instances.push(this);
  }

  getTransceivers(): FakeTransceiver[] {
    return this.transceivers;
  }

  addTransceiver(trackOrKind: MediaStreamTrack | Kind, init: { direction: RTCRtpTransceiverDirection }): FakeTransceiver {
    const track = typeof trackOrKind === "string" ? null : trackOrKind;
    const kind = typeof trackOrKind === "string" ? trackOrKind : (trackOrKind.kind as Kind);
    const transceiver = new FakeTransceiver(kind, init.direction, track);
    this.transceivers.push(transceiver);
    return transceiver;
  }

  removeTrack(sender: { track: MediaStreamTrack | null }): void {
    const transceiver = this.transceivers.find((t) => t.sender === sender);
    if (!transceiver) return;
    transceiver.sender.track = null;
    transceiver.direction = "inactive";
  }

  restartIce(): void {
    this.restartIceCalls += 1;
  }

  async createOffer(): Promise<{ type: "offer"; sdp: string }> {
    const lines = this.transceivers.map((t) => `m=${t.receiver.track.kind} ${t.direction}`);
    return { type: "offer", sdp: ["v=0", ...lines].join("\r\n") };
  }

  async setLocalDescription(description: { type: string; sdp: string }): Promise<void> {
    for (const transceiver of this.transceivers) transceiver.mid ??= String(this.nextMid++);
    this.localDescription = description;
    this.signalingState = "have-local-offer";
  }

  async setRemoteDescription(description: { type: string; sdp: string }): Promise<void> {
    this.remoteDescription = description;
    this.signalingState = "stable";
    this.ontrack?.();
  }

  async addIceCandidate(): Promise<void> {}

  setConnectionState(state: RTCPeerConnectionState): void {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }

  close(): void {
    this.closed = true;
    this.signalingState = "closed";
  }
}

/** Installs the fakes as the globals PeerSession uses. */
export function installFakeRtc(): void {
  FakePeerConnection.instances = [];
  Object.assign(globalThis, {
    RTCPeerConnection: FakePeerConnection,
    RTCRtpReceiver: {
      getCapabilities: (kind: Kind) => ({
        codecs:
          kind === "video"
            ? [{ mimeType: "video/VP8" }, { mimeType: "video/rtx" }, { mimeType: "video/H264" }]
            : [{ mimeType: "audio/opus" }, { mimeType: "audio/G722" }],
        headerExtensions: [],
      }),
    },
  });
}
