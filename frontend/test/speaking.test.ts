import { describe, expect, it } from "vitest";
import { rms, SpeakingDetector } from "../src/client/speaking";

describe("speaking detection", () => {
  it("turns on as soon as the level passes the threshold", () => {
    const detector = new SpeakingDetector({ onLevel: 0.1, offLevel: 0.05, holdMs: 500 });
    expect(detector.update(0.02, 0)).toBe(false);
    expect(detector.update(0.2, 100)).toBe(true);
  });

  it("stays on through short pauses and turns off after the hold time", () => {
    const detector = new SpeakingDetector({ onLevel: 0.1, offLevel: 0.05, holdMs: 500 });
    detector.update(0.2, 0);
    expect(detector.update(0.01, 100)).toBe(true);
    expect(detector.update(0.01, 400)).toBe(true);
    expect(detector.update(0.2, 500)).toBe(true);
    expect(detector.update(0.01, 600)).toBe(true);
    expect(detector.update(0.01, 1100)).toBe(false);
  });

  it("does not count levels between the thresholds as silence", () => {
    const detector = new SpeakingDetector({ onLevel: 0.1, offLevel: 0.05, holdMs: 500 });
    detector.update(0.2, 0);
    expect(detector.update(0.07, 2000)).toBe(true);
  });

  it("computes the RMS of samples", () => {
    expect(rms([])).toBe(0);
    expect(rms([0.5, -0.5, 0.5, -0.5])).toBeCloseTo(0.5);
  });
});
