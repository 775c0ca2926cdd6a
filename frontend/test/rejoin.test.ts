import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rejoinAfterMs } from "../src/client/rejoin";

describe("rejoinAfterMs", () => {
  it("rejoins at once after the first phx_error (a lost worker), not after phoenix's 1 s", () => {
    assert.equal(rejoinAfterMs(1), 0);
  });

  it("backs off on rejoins that fail again, up to 10 s", () => {
    assert.deepEqual([2, 3, 4, 5, 6, 50].map(rejoinAfterMs), [1000, 2000, 5000, 10000, 10000, 10000]);
  });
});
