import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rms, SpeakingDetector } from "../src/client/speaking";

describe("speaking detection", () => {
  it("turns on as soon as the level passes the threshold", () => {
    const detector = new SpeakingDetector({ onLevel: 0.1, offLevel: 0.05, holdMs: 500 });
    assert.equal(detector.update(0.02, 0), false);
    assert.equal(detector.update(0.2, 100), true);
  });

  it("stays on through short pauses and turns off after the hold time", () => {
    const detector = new SpeakingDetector({ onLevel: 0.1, offLevel: 0.05, holdMs: 500 });
    detector.update(0.2, 0);
    assert.equal(detector.update(0.01, 100), true);
    assert.equal(detector.update(0.01, 400), true);
    assert.equal(detector.update(0.2, 500), true);
    assert.equal(detector.update(0.01, 600), true);
    assert.equal(detector.update(0.01, 1100), false);
  });

  it("does not count levels between the thresholds as silence", () => {
    const detector = new SpeakingDetector({ onLevel: 0.1, offLevel: 0.05, holdMs: 500 });
    detector.update(0.2, 0);
    assert.equal(detector.update(0.07, 2000), true);
  });

  it("computes the RMS of samples", () => {
    assert.equal(rms([]), 0);
    assert.ok(Math.abs((rms([0.5, -0.5, 0.5, -0.5])) - (0.5)) < 0.01);
  });
});
