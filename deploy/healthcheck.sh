#!/usr/bin/env bash
# The image's HEALTHCHECK (installed as /opt/zett/bin/zett-healthcheck): healthy when zett-server's
# /metrics on 127.0.0.1:${ZETT_METRICS_PORT:-9464} reports an AVAILABLE model version, which is
# when grpc.health.v1 turns SERVING. bash's /dev/tcp, because the slim image has no HTTP or
# gRPC client. Kubernetes does not use this: its probes are native gRPC (deploy/k8s/base).
set -euo pipefail
port=${ZETT_METRICS_PORT:-9464}
exec 3<> "/dev/tcp/127.0.0.1/$port"
printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
awk '/^zett_model_versions\{state="AVAILABLE"\} / { if ($2 + 0 > 0) ok = 1 }
     END { if (!ok) print "zett-healthcheck: no AVAILABLE model version"; exit !ok }' <&3
