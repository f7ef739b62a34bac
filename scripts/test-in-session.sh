#!/usr/bin/env bash
# Runs inside dbus-run-session (see test.sh): unlock a throwaway keyring, then test.
set -euo pipefail
# The keyring's files live in a directory of this run's own: gnome-keyring
# keeps them under XDG_DATA_HOME, and two runs on one machine (or a run
# beside someone's desktop session) would otherwise share, and delete, each
# other's secrets. The tests give each desktop they start its own data dir.
XDG_DATA_HOME=$(mktemp -d "${TMPDIR:-/tmp}/callguard-keyring.XXXXXX")
export XDG_DATA_HOME
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
printf 'callguard-test' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
if [ $# -gt 0 ]; then
  go test -race -count=1 -timeout 25m "$@"
  exit
fi
# Three runs side by side, so the slowest chains start at once:
# - the installers (packaging/...), whose Windows cross-build is the longest
#   step of all; they test build scripts and files, so no -race;
# - the root package, whose tests drive the real binary, built as it ships
#   (without -race), sharing fyne's cgo build with that binary; what it runs
#   in-process (ui, uplink, server) is race-tested in those packages;
# - everything else, under -race.
root=$(go list .)
mapfile -t installers < <(go list ./packaging/...)
mapfile -t others < <(go list ./... | grep -vxF -e "$root" $(printf -- '-e %s ' "${installers[@]}"))
go test -count=1 -timeout 25m "${installers[@]}" &
installerspid=$!
go test -count=1 -timeout 25m "$root" &
rootpid=$!
rc=0
go test -race -count=1 -timeout 25m "${others[@]}" || rc=$?
wait "$rootpid" || rc=$?
wait "$installerspid" || rc=$?
exit "$rc"
