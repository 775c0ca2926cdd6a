// Bundles room.ts once per pinned client version: dist/room-<version>.js.
import { build } from "esbuild";

export const VERSIONS = ["0.5.3", "0.7.1"];

for (const version of VERSIONS) {
  await build({
    entryPoints: ["room.ts"],
    bundle: true,
    format: "iife",
    target: "chrome120",
    outfile: `dist/room-${version}.js`,
    alias: { "membrane-webrtc-js": `membrane-webrtc-js-${version}` },
    logLevel: "warning",
  });
}
console.log(`built ${VERSIONS.map((v) => `dist/room-${v}.js`).join(", ")}`);
