/**
 * The slice of the phoenix npm client that RoomClient uses. The real `Socket` satisfies it;
 * unit tests pass fakes that record calls and fire replies.
 */

export interface PushLike {
  receive(status: "ok" | "error" | "timeout", callback: (response?: unknown) => unknown): PushLike;
}

export interface ChannelLike {
  join(timeout?: number): PushLike;
  leave(timeout?: number): PushLike;
  push(event: string, payload: object, timeout?: number): PushLike;
  on(event: string, callback: (payload?: unknown) => unknown): number;
  onError(callback: (reason?: unknown) => unknown): unknown;
  onClose(callback: (payload?: unknown) => unknown): unknown;
}

export interface SocketLike {
  connect(): void;
  disconnect(callback?: () => void, code?: number, reason?: string): void;
  /** `params` may be a function: the phoenix client calls it again for every (re)join. */
  channel(topic: string, params?: object | (() => object)): ChannelLike;
  /** True while the websocket is open. */
  isConnected(): boolean;
  onOpen(callback: () => unknown): unknown;
  onError(callback: (error?: unknown) => unknown): unknown;
  onClose(callback: (event?: unknown) => unknown): unknown;
}
