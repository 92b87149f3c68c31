// A small zett.v1 client for the deployment tests, on @grpc/grpc-js and the repository's own
// proto/zett/v1/zett.proto and proto/grpc/health/v1/health.proto. Plain-text gRPC to a loopback
// address only.
//
//   node tests/deploy/grpc_calls.mjs --npm .cache/npm --target 127.0.0.1:PORT --calls N
//
// Asks grpc.health.v1 for zett.v1.TokenizerTransfer, then makes N ListModels calls and one
// GetModel call for a model that does not exist. Prints one JSON line:
//   {"health":"NOT_SERVING","list_models_ok":N,"get_model_code":"NOT_FOUND","models":0}
// and exits non-zero when a call fails other than as described.
import path from "node:path";
import { createRequire } from "node:module";

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const target = arg("--target");
const calls = Number(arg("--calls", "5"));
if (!/^127\.0\.0\.1:\d+$/.test(target ?? "")) {
  console.error("grpc_calls: --target must be 127.0.0.1:PORT");
  process.exit(2);
}
const require = createRequire(path.resolve(arg("--npm", ".cache/npm"), "package.json"));
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const definition = protoLoader.loadSync(
  [
    path.join(root, "proto/zett/v1/zett.proto"),
    path.join(root, "proto/grpc/health/v1/health.proto"),
  ],
  { includeDirs: [root], keepCase: true, enums: String, longs: String, defaults: true },
);
const api = grpc.loadPackageDefinition(definition);
const credentials = grpc.credentials.createInsecure();
const health = new api.grpc.health.v1.Health(target, credentials);
const zett = new api.zett.v1.TokenizerTransfer(target, credentials);
const deadline = () => new Date(Date.now() + 5000);
const call = (client, method, request) =>
  new Promise((resolve) =>
    client[method](request, { deadline: deadline() }, (error, response) =>
      resolve({ error, response }),
    ),
  );
const codeName = (code) => Object.keys(grpc.status).find((k) => grpc.status[k] === code);

const result = { health: null, list_models_ok: 0, get_model_code: null, models: null };
let failed = false;
const h = await call(health, "Check", { service: "zett.v1.TokenizerTransfer" });
if (h.error) {
  console.error(`grpc_calls: Health/Check: ${h.error.message}`);
  failed = true;
} else {
  result.health = h.response.status;
}
for (let i = 0; i < calls; ++i) {
  const r = await call(zett, "ListModels", {});
  if (r.error) {
    console.error(`grpc_calls: ListModels: ${r.error.message}`);
    failed = true;
    break;
  }
  result.list_models_ok += 1;
  result.models = r.response.models.length;
}
const g = await call(zett, "GetModel", { model: "no-such-model" });
result.get_model_code = g.error ? codeName(g.error.code) : "OK";
health.close();
zett.close();
console.log(JSON.stringify(result));
process.exit(failed ? 1 : 0);
