/** Plays every remote audio track through its own hidden <audio> element. */

export class AudioSinks {
  private readonly elements = new Map<string, { track: MediaStreamTrack; audio: HTMLAudioElement }>();

  constructor(
    private readonly container: HTMLElement,
    private readonly onBlocked: () => void,
  ) {}

  /** Makes the playing set equal to `tracks` (track id -> track). */
  sync(tracks: ReadonlyMap<string, MediaStreamTrack>): void {
    for (const [trackId, entry] of this.elements) {
      if (tracks.get(trackId) !== entry.track) {
        entry.audio.srcObject = null;
        entry.audio.remove();
        this.elements.delete(trackId);
      }
    }
    for (const [trackId, track] of tracks) {
      if (this.elements.has(trackId)) continue;
      const audio = document.createElement("audio");
      audio.autoplay = true;
      audio.dataset.trackId = trackId;
      audio.srcObject = new MediaStream([track]);
      this.container.append(audio);
      this.elements.set(trackId, { track, audio });
      this.play(audio);
    }
  }

  /** Retries playback after a user gesture (autoplay policy). */
  resume(): void {
    for (const { audio } of this.elements.values()) this.play(audio);
  }

  clear(): void {
    this.sync(new Map());
  }

  private play(audio: HTMLAudioElement): void {
    audio.play().catch((error: unknown) => {
      if (error instanceof DOMException && error.name === "NotAllowedError") this.onBlocked();
    });
  }
}
