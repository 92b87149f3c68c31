// Checks scripts/deploy/lint_dockerfile.mjs: deploy/Dockerfile passes, and each rule catches the
// mistake it is for in an edited copy. Run from the repository root:
//   node --test tests/deploy/lint_dockerfile_test.mjs
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const real = fs.readFileSync(path.join(root, "deploy/Dockerfile"), "utf8");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zett-lint-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

function lint(text) {
  const file = path.join(tmp, `Dockerfile.${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, text);
  const r = spawnSync(
    "node",
    [
      path.join(root, "scripts/deploy/lint_dockerfile.mjs"),
      "--npm",
      path.join(root, ".cache/npm"),
      "--root",
      root,
      file,
    ],
    { encoding: "utf8" },
  );
  return { status: r.status, output: r.stdout + r.stderr };
}

// Replaces exactly one occurrence of `from` in the real Dockerfile.
function edited(from, to) {
  assert.equal(real.split(from).length, 2, `'${from}' must occur once in deploy/Dockerfile`);
  return real.replace(from, to);
}

function rejects(text, expected) {
  const { status, output } = lint(text);
  assert.equal(status, 1, output);
  assert.match(output, expected);
}

test("deploy/Dockerfile passes", () => {
  const { status, output } = lint(real);
  assert.equal(status, 0, output);
  assert.match(output, /3 images, 0 findings/);
});

test("a 'latest' base image is refused", () =>
  rejects(edited("FROM ${DEBIAN_IMAGE} AS deps", "FROM debian:latest AS deps"), /'latest' is not a pinned tag/));

test("an untagged base image is refused", () =>
  rejects(edited("FROM ${DEBIAN_IMAGE} AS deps", "FROM debian AS deps"), /pin a tag or digest/));

test("a base image argument is judged by its default", () => {
  rejects(edited("ARG DEBIAN_IMAGE=debian:12.12\n", "ARG DEBIAN_IMAGE=debian\n"), /pin a tag or digest/);
  rejects(edited("ARG DEBIAN_SLIM_IMAGE=debian:12.12-slim\n", "ARG DEBIAN_SLIM_IMAGE=debian:latest\n"),
    /'latest' is not a pinned tag/);
  rejects(edited("FROM ${DEBIAN_IMAGE} AS deps", "FROM ${NO_SUCH_IMAGE} AS deps"), /no ARG NO_SUCH_IMAGE before the first FROM/);
});

test("a stage-choosing argument names stages, its default among them", () => {
  rejects(edited("(lint: stage-arg build-cpu prebuilt-cpu)", "(lint: stage-arg build-cpu prebuilt-cpus)"),
    /names prebuilt-cpus, which is no stage/);
  rejects(edited("ARG ZETT_CPU_BUILD=build-cpu\n", "ARG ZETT_CPU_BUILD=build-cuda\n"), /its default is not one of its stages/);
  // Unmarked, the argument's default stage alone is used and prebuilt-cpu becomes an image.
  rejects(edited("(lint: stage-arg build-cpu prebuilt-cpu)", ""), /stage prebuilt-cpu: no USER/);
});

test("an image without USER runs as root and is refused", () =>
  rejects(
    edited("COPY --from=cpu-binaries --chown=0:0 /opt/zett /opt/zett\nUSER 10001:10001\n",
      "COPY --from=cpu-binaries --chown=0:0 /opt/zett /opt/zett\n"),
    /stage cpu: no USER/,
  ));

test("USER 0 is refused", () =>
  rejects(
    edited("NVIDIA_DRIVER_CAPABILITIES=compute,utility\nUSER 10001:10001",
      "NVIDIA_DRIVER_CAPABILITIES=compute,utility\nUSER 0:0"),
    /stage cuda: USER 0:0 is root/,
  ));

test("a named USER is refused (runAsNonRoot needs a number)", () =>
  rejects(edited("USER 10001:10001\nHEALTHCHECK NONE", "USER zett\nHEALTHCHECK NONE"), /use a numeric uid/));

test("an image without HEALTHCHECK is refused", () =>
  rejects(edited("USER 10001:10001\nHEALTHCHECK NONE\n", "USER 10001:10001\n"), /stage model-repository: no HEALTHCHECK/));

test("COPY into a runtime stage needs --chown", () =>
  rejects(
    edited("COPY --from=cpu-binaries --chown=0:0 /opt/zett /opt/zett", "COPY --from=cpu-binaries /opt/zett /opt/zett"),
    /COPY in runtime stage cpu: set --chown/,
  ));

test("a RUN that is not a project script is refused unless marked", () => {
  rejects(
    edited("RUN bash scripts/install_deps.sh\n", "RUN apt-get update && apt-get install -y g++\n"),
    /RUN must be `bash <project script>`/,
  );
  const { status, output } = lint(
    edited("RUN bash scripts/install_deps.sh\n",
      "# lint: not-run-by-ci (test)\nRUN apt-get update && apt-get install -y g++\n"),
  );
  assert.equal(status, 0, output);
});

test("a RUN of a script the repository does not have is refused", () =>
  rejects(
    edited("RUN bash scripts/install_deps.sh\n", "RUN bash scripts/no_such_script.sh\n"),
    /no_such_script.sh is not a script of this repository/,
  ));

test("a COPY of a missing source is refused", () =>
  rejects(
    edited("COPY scripts/install_deps.sh scripts/install_deps.sh",
      "COPY scripts/install_dependencies.sh scripts/install_deps.sh"),
    /COPY source scripts\/install_dependencies.sh does not exist/,
  ));

test("dockerfile-utils reports malformed instructions", () =>
  rejects(
    edited("HEALTHCHECK NONE\n", "HEALTHCHECK --interval=often CMD true\n"),
    /dockerfile-utils: /,
  ));

test("ADD of a URL is refused", () =>
  rejects(
    edited("FROM runtime-base AS cpu\n", "FROM runtime-base AS cpu\nADD --chown=0:0 https://example.com/x.tgz /x\n"),
    /ADD of a URL/,
  ));
