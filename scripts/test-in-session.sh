#!/usr/bin/env bash
# Runs inside dbus-run-session (see test.sh): unlock a throwaway keyring, then test.
set -euo pipefail
printf 'callguard-test' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
if [ $# -gt 0 ]; then
  exec go test -race -count=1 -timeout 25m "$@"
fi
# Everything under -race but the root package: its tests drive the real
# binary, built as it ships (without -race), and so share fyne's cgo build
# with it instead of compiling fyne's GL and GLFW code a second time. What
# the root package runs in-process (ui, uplink, server) is race-tested in
# those packages.
root=$(go list .)
mapfile -t others < <(go list ./... | grep -vxF "$root")
go test -count=1 -timeout 25m "$root" &
rootpid=$!
rc=0
go test -race -count=1 -timeout 25m "${others[@]}" || rc=$?
wait "$rootpid" || rc=$?
exit "$rc"
