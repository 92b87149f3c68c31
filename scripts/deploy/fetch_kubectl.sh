#!/usr/bin/env bash
# Puts Debian 12's kubectl (package kubernetes-client, with kustomize v2.0.3 built in) under
# .cache/deploy/kubernetes-client and prints its path. Unpacked with dpkg -x rather than
# installed: other kubectl packages (e.g. a cloud SDK's) own /usr/bin/kubectl on some hosts, and
# rendering must not depend on whichever one that is. Offline once unpacked.
set -euo pipefail
cd "$(dirname "$0")/../.."
pin="1.20.5+really1.20.2-1.1+deb12u1"
root=.cache/deploy/kubernetes-client
kubectl="$root/usr/bin/kubectl"
if [ ! -x "$kubectl" ]; then
  mkdir -p .cache/deploy/debs
  (
    cd .cache/deploy/debs
    rm -f kubernetes-client_*.deb
    if ! apt-cache show kubernetes-client > /dev/null 2>&1; then
      # No package lists yet (install_deps.sh only updates them when it installs something).
      sudo=""
      [ "$(id -u)" -eq 0 ] || sudo="sudo"
      $sudo apt-get update -q >&2
    fi
    if ! apt-get download "kubernetes-client=$pin" >&2; then
      # Debian replaces a version when it ships a security update; take the current one.
      echo "fetch_kubectl: kubernetes-client=$pin is gone from the archive; using the candidate" >&2
      apt-get download kubernetes-client >&2
    fi
  )
  rm -rf "$root"
  dpkg -x .cache/deploy/debs/kubernetes-client_*.deb "$root"
fi
"$kubectl" version --client 2>/dev/null | grep -q 'Minor:"20"' ||
  { echo "fetch_kubectl: $kubectl is not kubectl 1.20" >&2; exit 1; }
echo "$kubectl"
