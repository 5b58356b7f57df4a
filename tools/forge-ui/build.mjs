// Bundles the Custom UI's boot script, and @forge/bridge as the chunk it
// imports inside Forge only, into the folder given (content-hashed names).
// Usage: node build.mjs <outdir>. Through esbuild's JS API, which finds its
// binary in the @esbuild/<platform> package npm installed.
import { build } from "esbuild";

const outdir = process.argv[2];
if (!outdir) {
  console.error("usage: node build.mjs <outdir>");
  process.exit(2);
}
await build({
  entryPoints: ["src/boot.js"],
  bundle: true,
  splitting: true,
  format: "esm",
  minify: true,
  platform: "browser",
  target: "es2020",
  entryNames: "[name].[hash]",
  chunkNames: "[name].[hash]",
  logLevel: "warning",
  outdir,
});
