/**
 * Samples audio tracks through one shared AudioContext and reports who is speaking.
 * Levels come from an AnalyserNode per track; the decision is SpeakingDetector's.
 */

import { rms, SpeakingDetector } from "../client/speaking";

interface Watched {
  readonly track: MediaStreamTrack;
  readonly source: MediaStreamAudioSourceNode;
  readonly analyser: AnalyserNode;
  readonly detector: SpeakingDetector;
  readonly buffer: Float32Array<ArrayBuffer>;
}

/** How often levels are sampled (ms). */
const SAMPLE_INTERVAL_MS = 100;

export class AudioLevelMonitor {
  private context: AudioContext | null = null;
  private readonly watched = new Map<string, Watched>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly speaking = new Set<string>();

  constructor(private readonly onChange: () => void) {}

  isSpeaking(key: string): boolean {
    return this.speaking.has(key);
  }

  /** Watches `track` under `key` (replacing what was watched there), or stops with null. */
  watch(key: string, track: MediaStreamTrack | null): void {
    const current = this.watched.get(key);
    if (current?.track === track) return;
    if (current) this.unwatch(key);
    if (!track || typeof AudioContext === "undefined") return;
    try {
      this.context ??= new AudioContext();
      const source = this.context.createMediaStreamSource(new MediaStream([track]));
      const analyser = this.context.createAnalyser();
      // About 85 ms at 48 kHz: sampled every 100 ms, the window sees most of the signal,
      // so short sounds are not missed between samples.
      analyser.fftSize = 4096;
      source.connect(analyser);
      this.watched.set(key, {
        track,
        source,
        analyser,
        detector: new SpeakingDetector(),
        buffer: new Float32Array(analyser.fftSize),
      });
      this.timer ??= setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    } catch {
      // No Web Audio for this track: the tile just shows no speaking indicator.
    }
  }

  /** Browsers start an AudioContext suspended until a user gesture; call from one. */
  resume(): void {
    if (this.context?.state === "suspended") void this.context.resume();
  }

  close(): void {
    for (const key of [...this.watched.keys()]) this.unwatch(key);
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    void this.context?.close();
    this.context = null;
  }

  private unwatch(key: string): void {
    const watched = this.watched.get(key);
    if (!watched) return;
    watched.source.disconnect();
    this.watched.delete(key);
    if (this.speaking.delete(key)) this.onChange();
  }

  private sample(): void {
    const now = performance.now();
    let changed = false;
    for (const [key, watched] of this.watched) {
      watched.analyser.getFloatTimeDomainData(watched.buffer);
      const level = watched.track.enabled && watched.track.readyState === "live" ? rms(watched.buffer) : 0;
      const speaking = watched.detector.update(level, now);
      if (speaking !== this.speaking.has(key)) {
        changed = true;
        if (speaking) this.speaking.add(key);
        else this.speaking.delete(key);
      }
    }
    if (changed) this.onChange();
  }
}
