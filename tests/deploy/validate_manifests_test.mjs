// Checks that scripts/deploy/validate_manifests.mjs accepts the real renders and rejects each
// kind of broken manifest it is meant to catch. Run from the repository root:
//   node --test tests/deploy/validate_manifests_test.mjs
// Renders the overlays itself with Debian's kubectl (scripts/deploy/fetch_kubectl.sh).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const npm = path.join(root, ".cache/npm");
const YAML = (
  await import(pathToFileURL(path.join(npm, "node_modules/yaml/dist/index.js")).href)
).default;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zett-validate-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

const kubectl = path.join(
  root,
  execFileSync("bash", [path.join(root, "scripts/deploy/fetch_kubectl.sh")], {
    encoding: "utf8",
  }).trim(),
);
const render = (overlay) =>
  YAML.parseAllDocuments(
    execFileSync(kubectl, ["kustomize", path.join(root, "deploy/k8s/overlays", overlay)], {
      encoding: "utf8",
    }),
  ).map((d) => d.toJS());
const rendered = { "gpu-production": render("gpu-production"), "cpu-dev": render("cpu-dev") };

// Runs the validator on `objects` (after `mutate`); returns {status, output}.
function validate(overlay, mutate = () => {}, extra = []) {
  const objects = structuredClone(rendered[overlay]);
  mutate(objects);
  const file = path.join(tmp, `${overlay}-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, objects.map((o) => YAML.stringify(o)).join("---\n"));
  const r = spawnSync(
    "node",
    [
      path.join(root, "scripts/deploy/validate_manifests.mjs"),
      "--npm",
      npm,
      "--file",
      file,
      overlay === "cpu-dev" ? "--no-gpu" : "--gpu",
      "--alerts",
      path.join(root, "deploy/prometheus/zett-alerts.yml"),
      ...extra,
    ],
    { encoding: "utf8" },
  );
  return { status: r.status, output: r.stdout + r.stderr };
}

const find = (objects, kind) => objects.find((o) => o.kind === kind);
const server = (objects) => find(objects, "Deployment").spec.template.spec.containers[0];

function rejects(overlay, mutate, expected) {
  const { status, output } = validate(overlay, mutate);
  assert.equal(status, 1, output);
  assert.match(output, expected);
}

test("the real renders pass", () => {
  for (const overlay of Object.keys(rendered)) {
    const { status, output } = validate(overlay);
    assert.equal(status, 0, output);
    assert.match(output, / 0 problems/);
  }
});

test("schema: a probe port must be an integer", () =>
  rejects(
    "gpu-production",
    (o) => (server(o).readinessProbe.grpc.port = "grpc"),
    /readinessProbe\/grpc\/port must be integer/,
  ));

test("schema: a Deployment needs spec.selector", () =>
  rejects("cpu-dev", (o) => delete find(o, "Deployment").spec.selector, /must have required property selector/));

test("schema: HPA replica counts are integers", () =>
  rejects(
    "gpu-production",
    (o) => (find(o, "HorizontalPodAutoscaler").spec.minReplicas = "two"),
    /minReplicas must be integer/,
  ));

test("schema: ServiceMonitor endpoints are a list", () =>
  rejects(
    "gpu-production",
    (o) => (find(o, "ServiceMonitor").spec.endpoints = { port: "metrics" }),
    /ServiceMonitor\/zett-server: schema/,
  ));

test("an unknown kind has no schema and fails", () =>
  rejects(
    "cpu-dev",
    (o) => o.push({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }),
    /no schema for example.com\/v1 Widget/,
  ));

test("a misspelt probe field leaves the probe missing", () =>
  rejects(
    "gpu-production",
    (o) => {
      server(o).readinesProbe = server(o).readinessProbe;
      delete server(o).readinessProbe;
    },
    /containers\[0\]\.readinesProbe: unknown field[\s\S]*readinessProbe must be a native grpc probe/,
  ));

test("unknown fields are refused wherever they are", () => {
  const { status, output } = validate("cpu-dev", (o) => {
    find(o, "Deployment").spec.revisionHistoryLimt = 3;
    find(o, "NetworkPolicy").spec.ingress[0].ports[0].portt = 1;
    find(o, "Service").metadata.lables = { a: "b" };
  });
  assert.equal(status, 1, output);
  assert.match(output, /Deployment\/zett-server: spec.revisionHistoryLimt: unknown field/);
  assert.match(output, /NetworkPolicy\/zett-server: spec.ingress\[0\].ports\[0\].portt: unknown field/);
  assert.match(output, /Service\/[a-z-]+: metadata.lables: unknown field/);
});

test("probes must ask grpc.health.v1 about the zett service", () =>
  rejects(
    "gpu-production",
    (o) => (server(o).startupProbe.grpc.service = ""),
    /startupProbe must ask for service zett.v1.TokenizerTransfer/,
  ));

test("privilege escalation and writable root are refused", () =>
  rejects(
    "cpu-dev",
    (o) => {
      server(o).securityContext.allowPrivilegeEscalation = true;
      server(o).securityContext.readOnlyRootFilesystem = false;
    },
    /allowPrivilegeEscalation must be false[\s\S]*readOnlyRootFilesystem must be true/,
  ));

test("images need a pinned tag", () =>
  rejects(
    "gpu-production",
    (o) => (server(o).image = "registry.example.com/zett/zett-server:latest"),
    /has no pinned tag/,
  ));

test("a Service selector must match the pods", () =>
  rejects(
    "cpu-dev",
    (o) => {
      const svc = o.find((x) => x.kind === "Service" && x.metadata.name === "zett-server");
      svc.spec.selector["app.kubernetes.io/component"] = "sever";
    },
    /Service\/zett-server: selector does not match/,
  ));

test("the CPU overlay must not request a GPU", () =>
  rejects(
    "cpu-dev",
    (o) => (server(o).resources.limits["nvidia.com/gpu"] = 1),
    /requests nvidia.com\/gpu in a CPU overlay/,
  ));

test("the GPU overlay must request a GPU", () =>
  rejects(
    "gpu-production",
    (o) => {
      delete server(o).resources.limits["nvidia.com/gpu"];
      delete server(o).resources.requests["nvidia.com/gpu"];
    },
    /no container requests nvidia.com\/gpu/,
  ));

test("the PrometheusRule must equal the rule file", () =>
  rejects(
    "gpu-production",
    (o) => (find(o, "PrometheusRule").spec.groups[0].rules[0].for = "1m"),
    /spec.groups differ/,
  ));

test("flags in the ConfigMap are --name=value with '_' names", () =>
  rejects(
    "cpu-dev",
    (o) => (find(o, "ConfigMap").data["server.flags"] += "--metrics-listen=0.0.0.0:9464\n"),
    /is not --name=value/,
  ));

test("--same-as: another render must hold the same objects, hash suffix aside", () => {
  const other = path.join(tmp, "other.yaml");
  const objects = structuredClone(rendered["gpu-production"]);
  const cm = find(objects, "ConfigMap");
  cm.metadata.name = "zett-server-flags-0123456789";
  find(objects, "Deployment").spec.template.spec.volumes.find((v) => v.configMap).configMap.name =
    cm.metadata.name;
  fs.writeFileSync(other, objects.map((o) => YAML.stringify(o)).join("---\n"));
  const same = validate("gpu-production", () => {}, ["--same-as", other]);
  assert.equal(same.status, 0, same.output);
  const differs = validate(
    "gpu-production",
    (o) => (find(o, "HorizontalPodAutoscaler").spec.maxReplicas = 9),
    ["--same-as", other],
  );
  assert.equal(differs.status, 1, differs.output);
  assert.match(differs.output, /differs from .*HorizontalPodAutoscaler/);
});
