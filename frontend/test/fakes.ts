/** Fakes of the phoenix client and of a peer session that record what RoomClient does. */

import type { PublishedTrack, SessionCallbacks, SessionLike } from "../src/client/peerSession";
import type { ChannelLike, PushLike, SocketLike } from "../src/client/phoenixTypes";
import type { IceCandidateData, TracksTypes } from "../src/protocol/mediaEvents";
import type { TrackMetadata } from "../src/protocol/metadata";

type Status = "ok" | "error" | "timeout";

export class FakePush implements PushLike {
  private readonly hooks: { status: Status; callback: (response?: unknown) => unknown }[] = [];

  receive(status: Status, callback: (response?: unknown) => unknown): PushLike {
    this.hooks.push({ status, callback });
    return this;
  }

  /** Fires the hooks of one reply, as the phoenix client does on each (re)join reply. */
  reply(status: Status, response?: unknown): void {
    for (const hook of this.hooks) if (hook.status === status) hook.callback(response);
  }
}

export class FakeChannel implements ChannelLike {
  readonly joinPush = new FakePush();
  readonly pushed: { event: string; payload: object }[] = [];
  left = false;
  private readonly handlers = new Map<string, ((payload?: unknown) => unknown)[]>();
  private readonly errorHooks: (() => unknown)[] = [];
  private readonly closeHooks: (() => unknown)[] = [];

  constructor(
    readonly topic: string,
    private readonly rawParams: object | (() => object) | undefined,
  ) {}

  /** The params of the next (re)join, as the phoenix client evaluates them. */
  get params(): object | undefined {
    return typeof this.rawParams === "function" ? this.rawParams() : this.rawParams;
  }

  join(): PushLike {
    return this.joinPush;
  }

  leave(): PushLike {
    this.left = true;
    return new FakePush();
  }

  push(event: string, payload: object): PushLike {
    this.pushed.push({ event, payload });
    return new FakePush();
  }

  on(event: string, callback: (payload?: unknown) => unknown): number {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), callback]);
    return 0;
  }

  onError(callback: () => unknown): void {
    this.errorHooks.push(callback);
  }

  onClose(callback: () => unknown): void {
    this.closeHooks.push(callback);
  }

  /** A server push of one media event. */
  serverEvent(event: unknown): void {
    for (const handler of this.handlers.get("mediaEvent") ?? []) handler({ data: JSON.stringify(event) });
  }

  triggerError(): void {
    for (const hook of this.errorHooks) hook();
  }

  triggerClose(): void {
    for (const hook of this.closeHooks) hook();
  }

  /** Media events this client sent, decoded. */
  sentEvents(): { type: string; data?: { type?: string; data?: unknown } & Record<string, unknown> }[] {
    return this.pushed
      .filter((push) => push.event === "mediaEvent")
      .map((push) => JSON.parse((push.payload as { data: string }).data));
  }
}

export class FakeSocket implements SocketLike {
  readonly channels: FakeChannel[] = [];
  connected = false;
  disconnected = false;
  private readonly errorHooks: (() => unknown)[] = [];

  connect(): void {
    this.connected = true;
  }

  disconnect(): void {
    this.disconnected = true;
  }

  isConnected(): boolean {
    return this.connected && !this.disconnected;
  }

  channel(topic: string, params?: object | (() => object)): FakeChannel {
    const channel = new FakeChannel(topic, params);
    this.channels.push(channel);
    return channel;
  }

  onOpen(): void {}

  onError(callback: () => unknown): void {
    this.errorHooks.push(callback);
  }

  onClose(): void {}

  triggerError(): void {
    for (const hook of this.errorHooks) hook();
  }

  get last(): FakeChannel {
    const channel = this.channels.at(-1);
    if (!channel) throw new Error("no channel");
    return channel;
  }
}

export class FakeSession implements SessionLike {
  readonly published: PublishedTrack[] = [];
  readonly unpublished: string[] = [];
  readonly metadataUpdates: { trackId: string; metadata: TrackMetadata }[] = [];
  readonly offers: TracksTypes[] = [];
  readonly answers: { sdp: string; midToTrackId: Record<string, string> }[] = [];
  readonly candidates: IceCandidateData[] = [];
  closed = false;
  readonly connection = null;

  constructor(
    readonly config: RTCConfiguration,
    readonly callbacks: SessionCallbacks,
  ) {}

  metadataResent = 0;

  resendMetadata(): void {
    this.metadataResent += 1;
  }

  publish(tracks: readonly PublishedTrack[]): void {
    this.published.push(...tracks);
  }

  unpublish(trackId: string): void {
    this.unpublished.push(trackId);
  }

  updateMetadata(trackId: string, metadata: TrackMetadata): void {
    this.metadataUpdates.push({ trackId, metadata });
  }

  onOfferData(tracksTypes: TracksTypes): void {
    this.offers.push(tracksTypes);
  }

  onSdpAnswer(sdp: string, midToTrackId: Record<string, string>): void {
    this.answers.push({ sdp, midToTrackId });
  }

  onCandidate(candidate: IceCandidateData): void {
    this.candidates.push(candidate);
  }

  close(): void {
    this.closed = true;
  }
}

export function fakeTrack(kind: "audio" | "video", enabled = true): MediaStreamTrack {
  return { kind, enabled, id: `${kind}-${Math.random()}` } as unknown as MediaStreamTrack;
}

export const fakeStream = {} as MediaStream;
