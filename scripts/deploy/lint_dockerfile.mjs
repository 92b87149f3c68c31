// Lints deploy/Dockerfile (hadolint is not installable here: no Debian package, no npm package).
//
//   node lint_dockerfile.mjs --npm DIR [--root REPO] DOCKERFILE
//
// 1. dockerfile-utils' validator (the one behind VS Code's Dockerfile support): syntax, unknown
//    instructions and flags, malformed HEALTHCHECK/USER/EXPOSE, ... Errors and warnings fail.
// 2. The rules this project cares about:
//    - every base image has an explicit tag or digest, never `latest`; a base given as a build
//      argument (`ARG DEBIAN_IMAGE=debian:12.12` before the first FROM, `FROM ${DEBIAN_IMAGE}`) is
//      judged by the argument's default; an argument that chooses between stages says which in
//      the comment above it, `lint: stage-arg STAGE...`, and the stage built on it counts as
//      built on each of them;
//    - every leaf stage (one no other stage builds on or copies from: the images people run)
//      ends as a numeric non-root USER and declares a HEALTHCHECK (`NONE` is an explicit choice);
//    - every COPY/ADD in a leaf stage or its FROM ancestors sets --chown; no ADD of URLs;
//    - every RUN starts with `bash <project script>` that exists in the repository, unless the
//      comment block right above it says `lint: not-run-by-ci (<why>)`: the image is made of
//      commands that CI runs;
//    - COPY sources exist in the repository (or are produced by the repository's scripts).
// Prints one line per finding, `file:line: message`, and exits 1 if there is any.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const value = argv[i + 1];
  argv.splice(i, 2);
  return value;
};
const npm = opt("--npm", ".cache/npm");
const root = path.resolve(opt("--root", "."));
const file = argv[0];
if (!file) {
  console.error("usage: lint_dockerfile.mjs --npm DIR [--root REPO] DOCKERFILE");
  process.exit(2);
}
const require = createRequire(path.resolve(npm, "package.json"));
const { validate } = require("dockerfile-utils");
const { DockerfileParser } = require("dockerfile-ast");

const content = fs.readFileSync(file, "utf8");
const lines = content.split("\n");
const findings = [];
const report = (line, msg) => findings.push(`${file}:${line + 1}: ${msg}`);

for (const d of validate(content)) {
  // DiagnosticSeverity: 1 error, 2 warning, 3 information, 4 hint.
  if (d.severity <= 2) report(d.range.start.line, `dockerfile-utils: ${d.message}`);
}

const commentAbove = (line) => {
  const block = [];
  for (let l = line - 1; l >= 0 && lines[l].trim().startsWith("#"); --l) block.push(lines[l]);
  return block.join("\n");
};

const dockerfile = DockerfileParser.parse(content);
const stages = [];
// Build arguments declared before the first FROM: the only ones FROM may use.
const globalArgs = new Map(); // name -> {value, stages (lint: stage-arg) or null, line}
let current = null;
for (const inst of dockerfile.getInstructions()) {
  const keyword = inst.getKeyword().toUpperCase();
  const line = inst.getRange().start.line;
  if (keyword === "ARG" && !current) {
    const [name, ...value] = (inst.getArgumentsContent() ?? "").trim().split("=");
    const choice = commentAbove(line).match(/lint: stage-arg ([\w .-]+)/);
    globalArgs.set(name, { value: value.join("=") || null, stages: choice ? choice[1].trim().split(/\s+/) : null, line });
    continue;
  }
  if (keyword === "FROM") {
    const raw = (inst.getArgumentsContent() ?? "").trim().split(/\s+/).find((w) => !w.startsWith("--"));
    const argRef = raw.match(/^\$\{?(\w+)\}?$/);
    const image = raw.replace(/\$\{?(\w+)\}?/g, (_, name) => globalArgs.get(name)?.value ?? "");
    const at = image.indexOf("@");
    const nameTag = at < 0 ? image : image.slice(0, at);
    const colon = nameTag.lastIndexOf(":");
    const tagged = colon > nameTag.lastIndexOf("/");
    const base = tagged ? nameTag.slice(0, colon) : nameTag;
    current = {
      name: inst.getBuildStage(),
      base,
      // A stage-choosing argument: this stage is built on each of the stages it may name.
      bases: argRef && globalArgs.get(argRef[1])?.stages ? globalArgs.get(argRef[1]).stages : [base],
      tag: tagged ? nameTag.slice(colon + 1) : null,
      digest: at < 0 ? null : image.slice(at + 1),
      image,
      line,
      instructions: [],
    };
    if (argRef && !globalArgs.has(argRef[1])) report(line, `FROM ${raw}: no ARG ${argRef[1]} before the first FROM`);
    stages.push(current);
    continue;
  }
  if (!current) continue;
  current.instructions.push({
    keyword,
    line,
    args: (inst.getArgumentsContent() ?? "").trim(),
    flags: typeof inst.getFlags === "function" ? inst.getFlags() : [],
  });
}
if (stages.length === 0) report(0, "no FROM");

const stageNames = new Set(stages.map((s) => s.name).filter(Boolean));
const byName = new Map(stages.filter((s) => s.name).map((s) => [s.name, s]));
const flag = (inst, name) => inst.flags.find((f) => f.getName() === name)?.getValue() ?? null;

for (const [name, arg] of globalArgs) {
  if (!arg.stages) continue;
  for (const stage of arg.stages) {
    if (!stageNames.has(stage)) report(arg.line, `ARG ${name}: lint: stage-arg names ${stage}, which is no stage`);
  }
  if (!arg.stages.includes(arg.value)) report(arg.line, `ARG ${name}: its default is not one of its stages`);
}

// Base images.
for (const s of stages) {
  if (s.bases.every((b) => stageNames.has(b))) continue;
  if (!s.tag && !s.digest) report(s.line, `FROM ${s.image}: pin a tag or digest`);
  if (s.tag === "latest") report(s.line, `FROM ${s.image}: 'latest' is not a pinned tag`);
}

// Leaves and the stages they are built on.
const usedBy = new Set();
for (const s of stages) {
  for (const b of s.bases) if (stageNames.has(b)) usedBy.add(b);
  for (const inst of s.instructions) {
    const from = inst.keyword === "COPY" ? flag(inst, "from") : null;
    if (from) usedBy.add(from);
  }
}
const leaves = stages.filter((s) => !s.name || !usedBy.has(s.name));
const runtimeChain = new Set();
const addChain = (s) => {
  if (!s || runtimeChain.has(s)) return;
  runtimeChain.add(s);
  for (const b of s.bases) addChain(byName.get(b));
};
for (const leaf of leaves) addChain(leaf);

for (const leaf of leaves) {
  const label = `stage ${leaf.name ?? "(unnamed)"}`;
  // USER and HEALTHCHECK are inherited along FROM; look at the leaf and its ancestors.
  let user = null;
  let healthcheck = false;
  for (let s = leaf; s && (user === null || !healthcheck); s = byName.get(s.base)) {
    const insts = s.instructions;
    if (user === null) user = [...insts].reverse().find((i) => i.keyword === "USER")?.args ?? null;
    healthcheck ||= insts.some((i) => i.keyword === "HEALTHCHECK");
  }
  if (user === null) {
    report(leaf.line, `${label}: no USER, the image would run as root`);
  } else {
    const uid = user.split(":")[0];
    if (!/^\d+$/.test(uid)) {
      report(leaf.line, `${label}: USER ${user}: use a numeric uid (runAsNonRoot can check it)`);
    } else if (Number(uid) === 0) {
      report(leaf.line, `${label}: USER ${user} is root`);
    }
  }
  if (!healthcheck) report(leaf.line, `${label}: no HEALTHCHECK (write HEALTHCHECK NONE to opt out)`);
}

for (const s of stages) {
  for (const inst of s.instructions) {
    if ((inst.keyword === "COPY" || inst.keyword === "ADD") && runtimeChain.has(s)) {
      if (flag(inst, "chown") === null) {
        report(inst.line, `${inst.keyword} in runtime stage ${s.name}: set --chown (who owns it)`);
      }
    }
    if (inst.keyword === "ADD" && /(^|\s)(https?|git):/.test(inst.args)) {
      report(inst.line, "ADD of a URL: fetch in a script that CI runs, then COPY");
    }
    if (inst.keyword === "COPY" && flag(inst, "from") === null) {
      const words = inst.args.split(/\s+/).filter((w) => !w.startsWith("--"));
      for (const src of words.slice(0, -1)) {
        // models/repository is made by the main job (scripts/main_job.sh), build/deploy/stage by
        // scripts/deploy/build_release.sh; neither is checked in.
        if (src === "." || src === "models/repository" || src === "build/deploy/stage") continue;
        if (!fs.existsSync(path.join(root, src))) {
          report(inst.line, `COPY source ${src} does not exist in the repository`);
        }
      }
    }
    if (inst.keyword === "RUN") {
      const marked = /lint: not-run-by-ci \(.+\)/.test(commentAbove(inst.line));
      const m = inst.args.match(/^bash\s+(\S+)/);
      if (marked) continue;
      if (!m) {
        report(inst.line, "RUN must be `bash <project script>` (or be marked lint: not-run-by-ci (why))");
        continue;
      }
      // Scripts run from where they were copied; map the copy back to the repository path.
      const script = m[1].replace(/^\/opt\/zett-install\//, "");
      if (!fs.existsSync(path.join(root, script))) {
        report(inst.line, `RUN bash ${m[1]}: ${script} is not a script of this repository`);
      }
    }
    if (/\blatest\b/.test(inst.args) && inst.keyword !== "RUN") {
      report(inst.line, `${inst.keyword}: refers to 'latest'`);
    }
  }
}

for (const f of findings) console.log(f);
console.log(`${file}: ${stages.length} stages, ${leaves.length} images, ${findings.length} findings`);
process.exit(findings.length ? 1 : 0);
