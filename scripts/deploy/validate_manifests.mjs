// Validates rendered Kubernetes manifests (kubectl kustomize output) offline.
//
//   node validate_manifests.mjs --npm DIR --file RENDERED.yaml [--gpu | --no-gpu]
//        [--alerts deploy/prometheus/zett-alerts.yml] [--same-as OTHER_RENDER.yaml]
//
// 1. Schema: every object against the JSON schema of its kind, from the npm packages
//    kubernetes-models (Kubernetes 1.27 OpenAPI, which knows `grpc` probes) and
//    @kubernetes-models/prometheus-operator (ServiceMonitor, PrometheusRule). A kind without a
//    schema is an error, not a pass. Built-in kinds are also checked for unknown fields
//    (@kubernetes/client-node's field tables), as `kubectl --validate=strict` would.
// 2. References inside the render: selectors match the pod labels, named ports exist, ConfigMaps,
//    ServiceAccounts and HPA targets exist, the ServiceMonitor finds a Service port.
// 3. This project's deployment rules: native gRPC probes on grpc.health.v1, non-root, read-only
//    root, no privilege escalation, resources set, pinned image tags, GPU request iff --gpu, the
//    PrometheusRule equal to the rule file.
// 4. With --same-as: the same objects as another render (a newer kustomize), up to the
//    generated ConfigMap's hash suffix, whose algorithm changed between kustomize versions, and
//    empty `annotations: {}`.
// Prints one line per problem and exits 1 when there is any.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";

function parseArgs(argv) {
  const args = { gpu: null };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === "--npm") args.npm = argv[++i];
    else if (a === "--file") args.file = argv[++i];
    else if (a === "--alerts") args.alerts = argv[++i];
    else if (a === "--same-as") args.sameAs = argv[++i];
    else if (a === "--gpu") args.gpu = true;
    else if (a === "--no-gpu") args.gpu = false;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.npm || !args.file) throw new Error("--npm DIR and --file RENDERED.yaml are required");
  return args;
}

const args = parseArgs(process.argv.slice(2));
const modules = path.resolve(args.npm, "node_modules");
const importFrom = (rel) => import(pathToFileURL(path.join(modules, rel)).href);
const YAML = (await importFrom("yaml/dist/index.js")).default;

const problems = [];
const report = (obj, msg) =>
  problems.push(`${args.file}: ${obj ? `${obj.kind}/${obj.metadata?.name}: ` : ""}${msg}`);

// apiVersion → module with one class per kind.
async function schemaModule(apiVersion) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const candidates =
    group === ""
      ? [`kubernetes-models/${version}/index.js`]
      : group === "monitoring.coreos.com"
        ? [`@kubernetes-models/prometheus-operator/${group}/${version}/index.js`]
        : [`kubernetes-models/${group}/${version}/index.js`];
  for (const rel of candidates) {
    if (fs.existsSync(path.join(modules, rel))) return importFrom(rel);
  }
  return null;
}

async function validateSchema(obj) {
  const mod = await schemaModule(obj.apiVersion ?? "");
  const Model = mod?.[obj.kind];
  if (typeof Model !== "function") {
    report(obj, `no schema for ${obj.apiVersion} ${obj.kind}`);
    return;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    report(obj, `schema: ${e.message}`);
  }
}

// Strict fields: a key the Kubernetes API does not define (a misspelt `readinesProbe`) is
// silently dropped by the API server and passes JSON-schema validation, whose schemas allow
// extra properties. The field tables of @kubernetes/client-node's generated models (one class
// per API type, attribute name + type) name every field, so walk each object along them.
// Custom resources (monitoring.coreos.com) have no such table and get schema validation only.
const k8s = await importFrom("@kubernetes/client-node/dist/index.js");
function unknownFields(value, type, where, out) {
  if (value === null || value === undefined) return;
  let m;
  if ((m = type.match(/^Array<(.+)>$/))) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, m[1], `${where}[${i}]`, out));
    return;
  }
  if ((m = type.match(/^\{ \[key: string\]: (.+); \}$/))) {
    if (typeof value === "object") {
      for (const [k, v] of Object.entries(value)) unknownFields(v, m[1], `${where}.${k}`, out);
    }
    return;
  }
  const model = k8s[type];
  // Primitives, IntOrString, Date, any; wrong shapes are the schema check's to report.
  if (typeof model?.getAttributeTypeMap !== "function") return;
  if (typeof value !== "object" || Array.isArray(value)) return;
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) out.push(`${where}.${k}: unknown field (not in ${type})`);
    else unknownFields(v, fields.get(k), `${where}.${k}`, out);
  }
}
function strictCheck(obj) {
  const version = (obj.apiVersion ?? "").split("/").pop();
  const root = `${version.charAt(0).toUpperCase()}${version.slice(1)}${obj.kind}`;
  if (typeof k8s[root]?.getAttributeTypeMap !== "function") return;
  const out = [];
  unknownFields(obj, root, "", out);
  for (const msg of out) report(obj, msg.replace(/^\./, ""));
}

const docs = YAML.parseAllDocuments(fs.readFileSync(args.file, "utf8"));
const objects = [];
for (const doc of docs) {
  if (doc.errors.length) report(null, `YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
  const obj = doc.toJS();
  if (obj) objects.push(obj);
}
if (objects.length === 0) report(null, "no objects rendered");
for (const obj of objects) {
  await validateSchema(obj);
  strictCheck(obj);
}

const byKind = (kind) => objects.filter((o) => o.kind === kind);
const named = (kind, name) => byKind(kind).find((o) => o.metadata?.name === name);
// Reference checks run after the schema check, which reports wrong shapes: read lists defensively.
const list = (x) => (Array.isArray(x) ? x : []);
const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

const deployments = byKind("Deployment");
if (deployments.length !== 1) report(null, `expected one Deployment, found ${deployments.length}`);

for (const dep of deployments) {
  const pod = dep.spec?.template ?? {};
  const labels = pod.metadata?.labels ?? {};
  const spec = pod.spec ?? {};
  if (!matches(dep.spec?.selector?.matchLabels, labels)) {
    report(dep, "spec.selector does not match the pod template labels");
  }
  const podSc = spec.securityContext ?? {};
  if (spec.serviceAccountName && !named("ServiceAccount", spec.serviceAccountName)) {
    report(dep, `ServiceAccount ${spec.serviceAccountName} is not in the render`);
  }
  if (spec.automountServiceAccountToken !== false) {
    report(dep, "automountServiceAccountToken must be false (the server calls no API)");
  }
  for (const vol of list(spec.volumes)) {
    if (vol.configMap && !named("ConfigMap", vol.configMap.name)) {
      report(dep, `volume ${vol.name}: ConfigMap ${vol.configMap.name} is not in the render`);
    }
  }
  const all = [...list(spec.initContainers), ...list(spec.containers)];
  let gpus = 0;
  for (const c of all) {
    const where = `container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) {
      report(dep, `${where}: allowPrivilegeEscalation must be false`);
    }
    if (sc.readOnlyRootFilesystem !== true) {
      report(dep, `${where}: readOnlyRootFilesystem must be true`);
    }
    if (sc.privileged === true) report(dep, `${where}: privileged`);
    if (!list(sc.capabilities?.drop).includes("ALL")) {
      report(dep, `${where}: capabilities.drop must include ALL`);
    }
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) {
      report(dep, `${where}: runAsNonRoot must be true`);
    }
    if ((sc.runAsUser ?? podSc.runAsUser) === 0) report(dep, `${where}: runs as uid 0`);
    const image = c.image ?? "";
    const tag = image.includes("@") ? "digest" : image.split("/").pop().split(":")[1];
    if (!tag || tag === "latest") report(dep, `${where}: image ${image} has no pinned tag`);
    const res = c.resources ?? {};
    for (const need of ["requests.cpu", "requests.memory", "limits.memory"]) {
      const [k1, k2] = need.split(".");
      if (res[k1]?.[k2] === undefined) report(dep, `${where}: resources.${need} is not set`);
    }
    const gpu = res.limits?.["nvidia.com/gpu"];
    if (gpu !== undefined) gpus += Number(gpu);
    if (res.requests?.["nvidia.com/gpu"] !== gpu) {
      report(dep, `${where}: nvidia.com/gpu requests and limits differ`);
    }
  }
  for (const c of list(spec.containers)) {
    const grpcPort = list(c.ports).find((p) => p.name === "grpc")?.containerPort;
    if (grpcPort === undefined) report(dep, `container ${c.name}: no port named grpc`);
    if (!list(c.ports).some((p) => p.name === "metrics")) {
      report(dep, `container ${c.name}: no port named metrics`);
    }
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      const p = c[probe];
      if (!p?.grpc) {
        report(dep, `container ${c.name}: ${probe} must be a native grpc probe (grpc.health.v1)`);
      } else if (p.grpc.port !== grpcPort) {
        report(dep, `container ${c.name}: ${probe} checks port ${p.grpc.port}, grpc is ${grpcPort}`);
      }
    }
    for (const probe of ["startupProbe", "readinessProbe"]) {
      if (c[probe]?.grpc && c[probe].grpc.service !== "zett.v1.TokenizerTransfer") {
        report(dep, `container ${c.name}: ${probe} must ask for service zett.v1.TokenizerTransfer`);
      }
    }
    if (!list(c.args).some((a) => a.startsWith("--flagfile="))) {
      report(dep, `container ${c.name}: flags must come from the ConfigMap (--flagfile=)`);
    }
  }
  const annotations = pod.metadata?.annotations ?? {};
  if (annotations["prometheus.io/scrape"] !== "true") {
    report(dep, "pod template lacks prometheus.io/scrape: \"true\"");
  }
  if (args.gpu === true && gpus < 1) report(dep, "no container requests nvidia.com/gpu");
  if (args.gpu === false && gpus > 0) report(dep, "requests nvidia.com/gpu in a CPU overlay");
  if (args.gpu === false && list(spec.tolerations).some((t) => t.key === "nvidia.com/gpu")) {
    report(dep, "tolerates nvidia.com/gpu taints in a CPU overlay");
  }

  const containerPorts = new Set(
    list(spec.containers).flatMap((c) => list(c.ports).map((p) => p.name)),
  );
  for (const svc of byKind("Service")) {
    if (!matches(svc.spec?.selector, labels)) {
      report(svc, "selector does not match the Deployment's pod labels");
    }
    for (const p of list(svc.spec?.ports)) {
      if (typeof p.targetPort === "string" && !containerPorts.has(p.targetPort)) {
        report(svc, `targetPort ${p.targetPort} is not a container port`);
      }
    }
  }
  for (const kind of ["PodDisruptionBudget", "NetworkPolicy"]) {
    const objs = byKind(kind);
    if (objs.length !== 1) report(null, `expected one ${kind}, found ${objs.length}`);
    for (const o of objs) {
      const sel = kind === "NetworkPolicy" ? o.spec?.podSelector : o.spec?.selector;
      if (!matches(sel?.matchLabels, labels)) report(o, "selector does not match the pod labels");
    }
  }
  for (const np of byKind("NetworkPolicy")) {
    for (const rule of list(np.spec?.ingress)) {
      for (const p of list(rule.ports)) {
        if (typeof p.port === "string" && !containerPorts.has(p.port)) {
          report(np, `ingress port ${p.port} is not a container port`);
        }
      }
    }
  }
}

for (const cm of byKind("ConfigMap")) {
  for (const [key, text] of Object.entries(cm.data ?? {})) {
    if (!key.endsWith(".flags")) continue;
    for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
      if (!/^--[a-z0-9_]+=\S*$/.test(line)) {
        report(cm, `${key}: '${line}' is not --name=value with '_' in the name`);
      }
    }
  }
}

const hpas = byKind("HorizontalPodAutoscaler");
for (const hpa of hpas) {
  const ref = hpa.spec?.scaleTargetRef ?? {};
  if (!named(ref.kind, ref.name)) report(hpa, `scaleTargetRef ${ref.kind}/${ref.name} is missing`);
}
if (args.gpu === true && hpas.length !== 1) report(null, "the GPU overlay needs one HPA");

const monitors = byKind("ServiceMonitor");
for (const sm of monitors) {
  const services = byKind("Service").filter((s) =>
    matches(sm.spec?.selector?.matchLabels, s.metadata?.labels),
  );
  if (services.length === 0) report(sm, "selects no Service in the render");
  for (const ep of list(sm.spec?.endpoints)) {
    if (!services.some((s) => list(s.spec?.ports).some((p) => p.name === ep.port))) {
      report(sm, `endpoint port ${ep.port} is not a port of the selected Services`);
    }
  }
}
const rules = byKind("PrometheusRule");
if (args.gpu === true && (monitors.length !== 1 || rules.length !== 1)) {
  report(null, "the GPU overlay needs one ServiceMonitor and one PrometheusRule");
}
if (args.gpu === false && monitors.length + rules.length > 0) {
  report(null, "the CPU overlay must not need the Prometheus Operator's CRDs");
}
if (args.alerts) {
  const fileGroups = YAML.parse(fs.readFileSync(args.alerts, "utf8"))?.groups;
  for (const rule of rules) {
    if (!isDeepStrictEqual(rule.spec?.groups, fileGroups)) {
      report(rule, `spec.groups differ from ${args.alerts}`);
    }
  }
}

if (args.sameAs) {
  // ConfigMap generator names end in -<10 chars of hash>; drop that suffix everywhere.
  const normalize = (text) =>
    YAML.parseAllDocuments(text.replace(/(zett-server-flags)-[a-z0-9]{10}\b/g, "$1"))
      .map((d) => d.toJS())
      .map((o) => {
        // kustomize v2.0.3 writes `annotations: {}` on a replaced ConfigMap; same object.
        if (o?.metadata?.annotations && !Object.keys(o.metadata.annotations).length) {
          delete o.metadata.annotations;
        }
        return JSON.stringify(sortKeys(o));
      })
      .sort();
  const sortKeys = (x) =>
    Array.isArray(x)
      ? x.map(sortKeys)
      : x && typeof x === "object"
        ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sortKeys(x[k])]))
        : x;
  const mine = normalize(fs.readFileSync(args.file, "utf8"));
  const theirs = normalize(fs.readFileSync(args.sameAs, "utf8"));
  for (const o of mine.filter((x) => !theirs.includes(x))) {
    report(null, `differs from ${args.sameAs}: ${o.slice(0, 160)}...`);
  }
  for (const o of theirs.filter((x) => !mine.includes(x))) {
    report(null, `only in ${args.sameAs}: ${o.slice(0, 160)}...`);
  }
}

for (const p of problems) console.log(p);
console.log(`${args.file}: ${objects.length} objects, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
