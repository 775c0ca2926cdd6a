/** Partial deep matching for assertions: only the keys `expected` names are compared. */

import assert from "node:assert/strict";

/** `actual` narrowed to the shape of `expected`; RegExp values test strings. */
function project(actual: unknown, expected: unknown): unknown {
  if (expected instanceof RegExp) return typeof actual === "string" && expected.test(actual) ? expected : actual;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) ? actual.map((item, i) => (i < expected.length ? project(item, expected[i]) : item)) : actual;
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null) return actual;
    const source = actual as Record<string, unknown>;
    return Object.fromEntries(Object.keys(expected).map((key) => [key, project(source[key], (expected as Record<string, unknown>)[key])]));
  }
  return actual;
}

export function assertMatches(actual: unknown, expected: unknown): void {
  assert.deepEqual(project(actual, expected), expected);
}
