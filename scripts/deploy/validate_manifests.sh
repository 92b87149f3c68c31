#!/usr/bin/env bash
# CI check of deploy/: renders every kustomize overlay with Debian 12's kubectl (kustomize
# v2.0.3, scripts/deploy/fetch_kubectl.sh), validates each render against the Kubernetes 1.27
# and Prometheus Operator schemas plus the project's rules (validate_manifests.mjs), checks and
# unit-tests the alerting rules with promtool, lints deploy/Dockerfile (lint_dockerfile.mjs),
# and runs the tests of the validator and the linter. Non-zero on any failure.
#   usage: scripts/deploy/validate_manifests.sh [OUT_DIR]   (renders land in OUT_DIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build/deploy/rendered}
mkdir -p "$out"
[ -d .cache/npm/node_modules/kubernetes-models ] || bash scripts/fetch_references.sh >&2
kubectl=$(bash scripts/deploy/fetch_kubectl.sh)

# overlay → what the validator expects of it
declare -A expect=([gpu-production]=--gpu [cpu-dev]=--no-gpu)
failed=0
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  [ -n "${expect[$name]:-}" ] || { echo "validate_manifests: no expectation for overlay $name" >&2; failed=1; continue; }
  if ! "$kubectl" kustomize "$overlay" > "$out/$name.yaml"; then
    echo "validate_manifests: kustomize failed on $overlay" >&2
    failed=1
    continue
  fi
  # A newer kubectl on the host (what users run) must render the same objects.
  same=()
  if command -v kubectl > /dev/null && [ "$(command -v kubectl)" != "$PWD/$kubectl" ] &&
    kubectl kustomize "$overlay" > "$out/$name.host-kubectl.yaml" 2> /dev/null; then
    same=(--same-as "$out/$name.host-kubectl.yaml")
  fi
  node scripts/deploy/validate_manifests.mjs --npm .cache/npm --file "$out/$name.yaml" \
    "${expect[$name]}" --alerts deploy/prometheus/zett-alerts.yml "${same[@]}" || failed=1
done
promtool check rules deploy/prometheus/zett-alerts.yml || failed=1
promtool test rules tests/deploy/zett-alerts.test.yml || failed=1
# The container recipe: dockerfile-utils plus the project's image rules.
node scripts/deploy/lint_dockerfile.mjs --npm .cache/npm deploy/Dockerfile || failed=1
# The validator and the linter must each reject the kinds of mistakes they claim to catch.
node --test tests/deploy/lint_dockerfile_test.mjs || failed=1
node --test tests/deploy/validate_manifests_test.mjs || failed=1
[ "$failed" -eq 0 ] && echo "validate_manifests: overlays, alert rules and Dockerfile valid"
exit "$failed"
