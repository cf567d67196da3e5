// trim-openapi.mjs reads GitHub's REST description from an installed
// @octokit/openapi package and writes the two trimmed copies app-token
// vendors in internal/openapi/:
//
//   app-permissions.json  every permission an installation token can be
//                         asked for, with the levels each allows
//                         (components.schemas.app-permissions)
//   responses.json        a JSON Schema (2020-12) document with the response
//                         schemas of the endpoints the emulator serves
//
// Usage: node scripts/trim-openapi.mjs PACKAGE_DIR OUT_DIR
// scripts/regen-openapi.sh installs the package and runs this; see there.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [pkgDir, outDir] = process.argv.slice(2);
if (!pkgDir || !outDir) {
  console.error("usage: node scripts/trim-openapi.mjs PACKAGE_DIR OUT_DIR");
  process.exit(2);
}
const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
const load = (name) => JSON.parse(readFileSync(join(pkgDir, "generated", name), "utf8"));
const dotcom = load("api.github.com.json");
// GET /enterprises/{enterprise}/installation is described for GitHub
// Enterprise Cloud only.
const ghec = load("ghec.json");
const source = `npm @octokit/openapi@${pkg.version}`;

// --- permissions -----------------------------------------------------------
const perms = dotcom.components.schemas["app-permissions"];
const permissions = {};
for (const name of Object.keys(perms.properties).sort()) {
  permissions[name] = perms.properties[name].enum;
}
// One permission a line, so that a regeneration's diff reads as a list of
// permissions added, removed or changed.
const lines = Object.entries(permissions).map(([n, l]) => `    ${JSON.stringify(n)}: ${JSON.stringify(l)}`);
writeFileSync(
  join(outDir, "app-permissions.json"),
  `{
  "source": ${JSON.stringify(`${source}, generated/api.github.com.json, components.schemas.app-permissions`)},
  "version": ${JSON.stringify(pkg.version)},
  "permissions": {
${lines.join(",\n")}
  }
}
`,
);

// --- response schemas ------------------------------------------------------
// The operations the emulator serves ("METHOD path" as the description
// spells the path), each from the description that has it.
const operations = [
  ["GET /app", dotcom],
  ["GET /app/installations", dotcom],
  ["GET /app/installations/{installation_id}", dotcom],
  ["POST /app/installations/{installation_id}/access_tokens", dotcom],
  ["GET /repos/{owner}/{repo}/installation", dotcom],
  ["GET /orgs/{org}/installation", dotcom],
  ["GET /users/{username}/installation", dotcom],
  ["GET /enterprises/{enterprise}/installation", ghec],
  ["GET /users/{username}", dotcom],
  ["GET /user", dotcom],
  ["GET /installation/repositories", dotcom],
  ["DELETE /installation/token", dotcom],
  ["DELETE /applications/{client_id}/token", dotcom],
  ["GET /repos/{owner}/{repo}", dotcom],
  ["GET /repos/{owner}/{repo}/contents/{path}", dotcom],
];

const defs = {};
const resolveRef = (doc, ref) => ref.replace(/^#\//, "").split("/").reduce((o, k) => o[k], doc);

// convert turns an OpenAPI 3.0 schema into JSON Schema 2020-12, collecting
// the component schemas it reaches into defs:
//   - "nullable: true" becomes a "null" type (or anyOf with null);
//   - a oneOf with a discriminator becomes anyOf: JSON Schema has no
//     discriminator, and GitHub's variants (private-user, public-user)
//     overlap, so oneOf would refuse every valid answer;
//   - examples, descriptions and x-* extensions are dropped.
function convert(doc, s) {
  if (Array.isArray(s)) return s.map((x) => convert(doc, x));
  if (s === null || typeof s !== "object") return s;
  if (s.$ref) {
    const name = s.$ref.split("/").pop();
    if (!(name in defs)) {
      defs[name] = {}; // break cycles
      defs[name] = convert(doc, resolveRef(doc, s.$ref));
    }
    return { $ref: `#/$defs/${name}` };
  }
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (["example", "examples", "description", "discriminator", "externalDocs", "nullable", "title"].includes(k)) continue;
    if (k.startsWith("x-")) continue;
    if (k === "properties") {
      out.properties = {};
      for (const [p, ps] of Object.entries(v)) out.properties[p] = convert(doc, ps);
      continue;
    }
    out[k === "oneOf" && s.discriminator ? "anyOf" : k] = convert(doc, v);
  }
  if (s.nullable) {
    if (typeof out.type === "string") {
      out.type = [out.type, "null"];
      if (out.enum && !out.enum.includes(null)) out.enum = [...out.enum, null];
      return out;
    }
    return { anyOf: [out, { type: "null" }] };
  }
  return out;
}

const ops = {};
for (const [key, doc] of operations) {
  const [method, path] = key.split(" ");
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) throw new Error(`${key}: not in the description`);
  const responses = {};
  for (let [status, resp] of Object.entries(op.responses)) {
    if (resp.$ref) resp = resolveRef(doc, resp.$ref);
    const schema = resp.content?.["application/json"]?.schema;
    // null: the description gives this status no JSON body.
    responses[status] = schema ? convert(doc, schema) : null;
  }
  ops[key] = responses;
}
// GitHub's error body, for statuses an operation's description omits
// (401 from a refused JWT, 5xx, rate limits).
convert(dotcom, { $ref: "#/components/schemas/basic-error" });

writeFileSync(
  join(outDir, "responses.json"),
  JSON.stringify(
    {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $comment: `Trimmed from ${source} (generated/api.github.com.json; ghec.json for the enterprise installation) by scripts/regen-openapi.sh.`,
      version: pkg.version,
      operations: ops,
      $defs: Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b))),
    },
    null,
    1,
  ) + "\n",
);
