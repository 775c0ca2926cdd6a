// Bundles the two page entry points and copies the stylesheet into dist/,
// which Django serves as static files (settings.STATICFILES_DIRS).
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";

const outdir = "dist";
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
await build({
  entryPoints: { home: "src/pages/home.ts", room: "src/pages/room.ts" },
  bundle: true,
  format: "esm",
  target: "es2022",
  sourcemap: true,
  minify: process.env.NODE_ENV !== "development",
  outdir,
  logLevel: "warning",
});
await copyFile("src/styles.css", `${outdir}/app.css`);
console.log(`built ${outdir}/home.js, ${outdir}/room.js, ${outdir}/app.css`);
