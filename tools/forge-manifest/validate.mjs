// Reads a manifest as JSON on standard input and checks it against the schema
// shipped in @forge/manifest. Prints each error and exits 1 when it is refused.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import addFormats from "ajv-formats";

// The package's exports map hides its files; read them from where npm put them.
const packageDir = join(dirname(fileURLToPath(import.meta.url)), "node_modules", "@forge", "manifest");
const schema = JSON.parse(readFileSync(join(packageDir, "out", "schema", "manifest-schema.json"), "utf8"));
const version = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")).version;
const manifest = JSON.parse(readFileSync(0, "utf8"));
// The schema carries documentation keywords (fieldDescription, defaultValue) that strict mode refuses.
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);
if (validate(manifest)) {
  console.log(`manifest valid against @forge/manifest ${version}`);
} else {
  for (const e of validate.errors) console.error(`${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
  process.exit(1);
}
