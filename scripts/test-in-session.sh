#!/usr/bin/env bash
# Runs inside dbus-run-session (see test.sh): unlock a throwaway keyring, then test.
set -euo pipefail
printf 'callguard-test' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
if [ $# -eq 0 ]; then set -- ./...; fi
exec go test -race -count=1 -timeout 25m "$@"
