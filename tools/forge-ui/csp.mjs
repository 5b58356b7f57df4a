// Prints the Content-Security-Policy that Forge serves a Custom UI resource
// with, as the real @forge/csp computes it from the resource's index.html
// (inline script hashes) and the manifest's permissions. The fake host sends
// it with the page. Usage: node csp.mjs <manifest.json> <index.html> <host origin>
// Exits 1, naming them, when the manifest declares content permissions that
// Forge's validator refuses (such as 'wasm-unsafe-eval').
import { readFileSync } from "node:fs";
import { load } from "cheerio";
import csp from "@forge/csp";

const [manifestPath, indexPath, hostname] = process.argv.slice(2);
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const html = readFileSync(indexPath, "utf8");
const permissions = manifest.permissions || {};
const processing = new csp.CSPProcessingService({ info: () => {} }, load);
const invalid = processing.getInvalidCspPermissions(permissions.content || {});
if (invalid.length > 0) {
  console.error(`content permissions Forge refuses: ${invalid.join(", ")}`);
  process.exit(1);
}
const details = processing.getCspDetails(html, permissions);
// 'dev' is Forge's development CDN, whose frame-ancestors admit http://localhost:*.
const policy = new csp.CSPInjectionService().getInjectableCSP({ existingCSPDetails: details, microsEnv: "dev", hostname });
console.log(policy.join("; "));
