#!/usr/bin/env bash
# Regenerates zett_v1.desc, the FileDescriptorSet of proto/zett/v1/zett.proto that
# zett_client.py falls back to on hosts without protoc. Run after changing the proto.
set -euo pipefail
cd "$(dirname "$0")/../../.."
protoc --include_imports --proto_path=proto \
  --descriptor_set_out=scripts/clients/python/zett_v1.desc zett/v1/zett.proto
echo "wrote scripts/clients/python/zett_v1.desc ($(stat -c %s scripts/clients/python/zett_v1.desc) bytes)"
