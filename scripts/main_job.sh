#!/usr/bin/env bash
# The main job (README's first command): installs what is missing, builds, starts zett-server
# on the bundled model repository, transfers a bundled real tokenizer with the client, writes
# the transferred model and prints a short report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh

repo=models/repository
if [ ! -d "$repo" ]; then
  cat >&2 <<MSG
main_job: the bundled model repository ($repo) does not exist yet.
  It needs a trained base LM (issue 4) and a hypernetwork for it (issue 5); the server
  and client that use it are issue 6. Until then, 'bash scripts/test.sh' builds and tests
  everything that exists.
MSG
  exit 2
fi
echo "main_job: model repository found, but the server is not built yet (issue 6)" >&2
exit 2
