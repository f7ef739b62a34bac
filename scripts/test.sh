#!/usr/bin/env bash
# Installs what is missing, checks the code and runs every test against the
# real rig. Extra arguments go to `go test` (e.g. -run TestPause ./app/...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh all
# One set of build flags for lint, tests, the smoke test's binary and the
# release builds, so fyne's cgo code is compiled once per run, not per step.
export GOFLAGS="-trimpath${GOFLAGS:+ $GOFLAGS}"
if [ $# -gt 0 ]; then
  scripts/lint.sh
  exec dbus-run-session -- scripts/test-in-session.sh "$@"
fi
# The whole suite: lint runs beside the tests (the installers' cross-builds
# are the longest part; they start at once), and its verdict counts the same.
lintlog=$(mktemp)
trap 'rm -f "$lintlog"' EXIT
scripts/lint.sh >"$lintlog" 2>&1 &
lint=$!
rc=0
# A session bus with an unlocked gnome-keyring, so tests use the real OS keyring.
dbus-run-session -- scripts/test-in-session.sh || rc=$?
lintrc=0
wait "$lint" || lintrc=$?
cat "$lintlog"
if [ "$lintrc" -ne 0 ]; then
  echo "lint failed (above)" >&2
  rc=1
fi
exit "$rc"
