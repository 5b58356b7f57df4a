// Checks manifests as the Forge CLI would: the JSON schema that @forge/manifest ships, then the package's own
// semantic validators (modules, connect modules, connect remote, resources, permissions, product-trigger scopes,
// remote auth scopes and regions, translations, …). Usage: `node validate.mjs [manifest.yml …]`, or one manifest
// on standard input (YAML, or JSON, which is YAML too). Prints each error and warning; exits 1 on any.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import forgeManifest from "@forge/manifest";

const { AbstractValidationProcessor, AgentProductContextScopesValidator, ProcessorBuilder } = forgeManifest;
const { ProductTriggerScopesValidator, ValidationTypes } = forgeManifest;
const here = dirname(fileURLToPath(import.meta.url));
const workspace = resolve(here, "..", "..");
// The package's exports map hides its files; read them from where npm put them.
const packageDir = join(here, "node_modules", "@forge", "manifest");
const readJson = (...path) => JSON.parse(readFileSync(join(packageDir, ...path), "utf8"));
const version = readJson("package.json").version;

// Every schema error at once, with its path (the chain below stops at the first failing stage).
// The schema carries documentation keywords (fieldDescription, defaultValue) that strict mode refuses.
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const schemaErrors = ajv.compile(readJson("out", "schema", "manifest-schema.json"));

// FULL is the chain `forge lint` and `forge deploy` run on a manifest. The package keeps narrower chains for
// single checks; the scope checks of two of them (product-trigger events, Rovo agent contexts) are not in
// FULL, so they follow it; the others' validators are all in FULL. Built once: each chain compiles the schema.
const full = ProcessorBuilder.instance().withValidation(ValidationTypes.FULL).build();
const chain = new AbstractValidationProcessor([
  ...full.validators,
  new ProductTriggerScopesValidator(readJson("out", "mapping", "product-event-to-scope-mapping.json")),
  new AgentProductContextScopesValidator(readJson("out", "mapping", "agent-product-context-to-scope-mapping.json")),
]);

// The problems Forge finds in one manifest's text, [] when none.
async function problemsOf(text) {
  const manifest = parse(text);
  if (!schemaErrors(manifest)) {
    return schemaErrors.errors.map((e) => `error: ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
  }
  // The validators read `manifest.yml` from disk and look at the resource directories it names, relative to
  // it (a Custom UI directory must hold an `index.html`, whose CSP they read). So the manifest goes into a
  // temporary directory as given, beside each resource: the built one when `cargo xtask forge-ui` has made it
  // (the manifest's paths are relative to the workspace, where `forge deploy` runs), else a stub page.
  const dir = mkdtempSync(join(tmpdir(), "forge-manifest-"));
  try {
    const file = join(dir, "manifest.yml");
    writeFileSync(file, text);
    for (const resource of manifest.resources ?? []) {
      const target = join(dir, resource.path);
      mkdirSync(dirname(target), { recursive: true });
      const built = join(workspace, resource.path);
      if (existsSync(join(built, "index.html"))) {
        // A copy: the validators `lstat` the directory, and a symlink is not one to them.
        cpSync(built, target, { recursive: true, dereference: true });
      } else {
        mkdirSync(target, { recursive: true });
        writeFileSync(join(target, "index.html"), "<!doctype html><title>stub</title>\n");
      }
    }
    const result = await chain.process(file);
    const problems = (result.errors ?? []).map((e) => `${e.level}: ${e.message} (line ${e.line})`);
    if (!result.success && problems.length === 0) problems.push("error: refused without a reason");
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const inputs = process.argv.length > 2 ? process.argv.slice(2) : [0];
let refused = false;
for (const input of inputs) {
  const name = input === 0 ? "manifest" : input;
  const problems = await problemsOf(readFileSync(input, "utf8"));
  if (problems.length) {
    refused = true;
    for (const p of problems) console.error(`${name}: ${p}`);
  } else {
    console.log(`${name}: manifest valid against @forge/manifest ${version} (schema and every validator)`);
  }
}
process.exit(refused ? 1 : 0);
