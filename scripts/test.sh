#!/usr/bin/env bash
# Installs what is missing, checks the code and runs every test against the
# real rig. Extra arguments go to `go test` (e.g. -run TestPause ./app/...).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh all
scripts/lint.sh
# A session bus with an unlocked gnome-keyring, so tests use the real OS keyring.
exec dbus-run-session -- scripts/test-in-session.sh "$@"
