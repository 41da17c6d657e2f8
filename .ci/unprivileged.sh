#!/usr/bin/env bash
# Run some test files as the unprivileged user cloudio-ci (created when missing), for tests that
# mean nothing as root (chmod 000 does not stop root). Needs root.
#
# Usage: .ci/unprivileged.sh DENO_VERSION [DENO TEST OPTIONS] TEST_FILE...
#
# The checkout and the deno binary are copied to a directory the user owns (the checkout's own
# folders may be closed to others, e.g. under /root), and the tests run there with their own
# DENO_DIR. Prints deno's output; exits with its code.
set -euo pipefail

readonly USER_NAME="cloudio-ci"
deno_version="$1"
shift
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! id -u "$USER_NAME" >/dev/null 2>&1; then
  echo "ci: creating the unprivileged user $USER_NAME" >&2
  useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
fi

work="$(mktemp -d /tmp/cloudio-ci-unprivileged.XXXXXX)"
trap 'rm -rf "$work"' EXIT
deno_bin="$(npx -y "deno@${deno_version}" eval --quiet 'console.log(Deno.execPath())')"
install -m 0755 "$deno_bin" "$work/deno"
mkdir "$work/repo"
tar --exclude=./.git --exclude=./.tmp --exclude=./node_modules --exclude=./dist -cf - . |
  tar -xf - -C "$work/repo"
chown -R "$USER_NAME" "$work"
chmod 0755 "$work"

echo "ci: running $* as $USER_NAME" >&2
cd "$work/repo"
runuser -u "$USER_NAME" -- env -i PATH=/usr/bin:/bin HOME="$work" DENO_DIR="$work/.deno" \
  NO_COLOR=1 "$work/deno" test -A "$@"
