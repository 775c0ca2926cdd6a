/** Small runtime checks used by the strict parsers of wire payloads. */

export type JsonObject = Record<string, unknown>;

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function expectObject(value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw new ProtocolError(`${what}: expected an object`);
  return value;
}

export function expectString(value: unknown, what: string): string {
  if (typeof value !== "string") throw new ProtocolError(`${what}: expected a string`);
  return value;
}

export function expectNumber(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ProtocolError(`${what}: expected a number`);
  }
  return value;
}

export function expectStringArray(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new ProtocolError(`${what}: expected an array of strings`);
  }
  return value as string[];
}

export function expectStringMap(value: unknown, what: string): Record<string, string> {
  const object = expectObject(value, what);
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(object)) {
    result[key] = expectString(item, `${what}.${key}`);
  }
  return result;
}

export function optionalString(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
