// Compiles test/*.test.ts with esbuild and runs them with node:test (exit status 1 on failure).
import { spawnSync } from "node:child_process";
import { readdir, rm } from "node:fs/promises";
import { build } from "esbuild";

const outdir = ".test-build";
await rm(outdir, { recursive: true, force: true });
const entryPoints = (await readdir("test")).filter((name) => name.endsWith(".test.ts")).map((name) => `test/${name}`);
await build({
  entryPoints,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outdir,
  outExtension: { ".js": ".mjs" },
  sourcemap: "inline",
  logLevel: "warning",
});
const files = entryPoints.map((entry) => `${outdir}/${entry.slice("test/".length, -".ts".length)}.mjs`);
const run = spawnSync(process.execPath, ["--enable-source-maps", "--test", "--test-reporter=spec", ...files], {
  stdio: "inherit",
});
process.exit(run.status ?? 1);
