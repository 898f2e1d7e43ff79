// The GraphQL over HTTP audit of the graphql-http package (its serverAudits) against a running server.
// Usage: node tests/graphql_http_audit.mjs URL [PACKAGE_DIR]
// PACKAGE_DIR is where graphql-http is installed (default: .tools/node_modules/graphql-http, as .ci/run puts it).
// Prints one JSON line per audit ({id, name, status, reason}); exits 0 when every audit is ok, 1 when one is not,
// 2 on a usage error.
import { pathToFileURL } from "node:url";
import path from "node:path";

const [url, packageDir = path.join(import.meta.dirname ?? ".", "..", ".tools", "node_modules", "graphql-http")] =
  process.argv.slice(2);
if (!url) {
  console.error("usage: node tests/graphql_http_audit.mjs URL [PACKAGE_DIR]");
  process.exit(2);
}
const { serverAudits } = await import(pathToFileURL(path.join(packageDir, "lib", "index.mjs")).href);

let failed = 0;
for (const audit of serverAudits({ url })) {
  let result;
  try {
    result = await audit.fn();
  } catch (error) {
    result = { id: audit.id, name: audit.name, status: "error", reason: `the audit threw: ${error}` };
  }
  if (result.status !== "ok") failed += 1;
  console.log(JSON.stringify({ id: result.id, name: result.name, status: result.status, reason: result.reason ?? null }));
}
process.exit(failed ? 1 : 0);
