#!/usr/bin/env bash
# Packages a built Linux binary with the fyne CLI (`fyne package -os linux`)
# into the tarball fyne apps ship: usr/local/{bin,share/applications,
# share/pixmaps} and a Makefile for `sudo make install`. Name, ID, icon and
# desktop-file fields come from FyneApp.toml.
# Usage: packaging/linux/build-tarball.sh FYNE BINARY X.Y.Z OUT.tar.xz
set -euo pipefail
fyne=${1:?usage: build-tarball.sh FYNE BINARY X.Y.Z OUT.tar.xz}
bin=${2:?usage: build-tarball.sh FYNE BINARY X.Y.Z OUT.tar.xz}
version=${3:?usage: build-tarball.sh FYNE BINARY X.Y.Z OUT.tar.xz}
out=${4:?usage: build-tarball.sh FYNE BINARY X.Y.Z OUT.tar.xz}
root=$(cd "$(dirname "$0")/../.." && pwd)
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
bin=$(abs "$bin")
mkdir -p "$(dirname "$out")"
out=$(abs "$out")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# fyne package counts Build up in the FyneApp.toml it reads, so it reads a
# copy, in a source folder of its own (it wants a .go file there; it builds
# nothing, as it is given the executable).
mkdir -p "$work/src/assets/icons"
cp "$root/FyneApp.toml" "$work/src/"
cp "$root/assets/icons/callguard.png" "$work/src/assets/icons/"
printf 'package main\n\nfunc main() {}\n' >"$work/src/main.go"
# fyne names the executable after the file it is given.
cp "$bin" "$work/callguard"
(cd "$work" && "$fyne" package -os linux --src "$work/src" --executable "$work/callguard" \
  --name callguard --app-version "$version" >&2)
mv "$work/callguard.tar.xz" "$out"
echo "build-tarball: $out ($(du -h "$out" | cut -f1))" >&2
