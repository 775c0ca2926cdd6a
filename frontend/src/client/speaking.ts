/**
 * Speaking detection from audio levels, with hysteresis so the indicator does not flicker:
 * on as soon as the level passes `onLevel`, off only after `holdMs` below `offLevel`.
 */

export interface SpeakingOptions {
  /** RMS level (0..1) that starts "speaking". */
  readonly onLevel: number;
  /** RMS level (0..1) below which silence is counted. */
  readonly offLevel: number;
  /** Silence needed before "speaking" ends (ms). */
  readonly holdMs: number;
}

export const DEFAULT_SPEAKING: SpeakingOptions = { onLevel: 0.03, offLevel: 0.015, holdMs: 600 };

export class SpeakingDetector {
  private speaking = false;
  private quietSince: number | null = null;

  constructor(private readonly options: SpeakingOptions = DEFAULT_SPEAKING) {}

  /** Feeds one level sample taken at `now` (ms); returns whether the source is speaking. */
  update(level: number, now: number): boolean {
    if (level >= this.options.onLevel) {
      this.speaking = true;
      this.quietSince = null;
    } else if (this.speaking && level < this.options.offLevel) {
      this.quietSince ??= now;
      if (now - this.quietSince >= this.options.holdMs) {
        this.speaking = false;
        this.quietSince = null;
      }
    } else if (this.speaking) {
      this.quietSince = null;
    }
    return this.speaking;
  }

  get isSpeaking(): boolean {
    return this.speaking;
  }
}

/** Root mean square of audio samples in -1..1. */
export function rms(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i += 1) {
    const sample = samples[i] ?? 0;
    sum += sample * sample;
  }
  return Math.sqrt(sum / samples.length);
}
