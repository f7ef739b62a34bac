#!/usr/bin/env bash
# Cross-compiles the desktop app for 64-bit Windows from Linux with mingw-w64,
# linking PortAudio built by build-portaudio.sh and libopus built by
# build-opus.sh (both static: the MSI ships no DLL of theirs), with the icon,
# version and manifest of callguard.rc.
# Usage: packaging/windows/build-exe.sh OUT.exe VERSION X.Y.Z
#   VERSION is what `callguard --version` prints (git describe), X.Y.Z the
#   numeric version in the file's properties (packaging/version.sh).
# The Go build cache makes every build after the first one quick (the first
# compiles fyne and its C code for Windows: about 7 minutes on 2 cores).
set -euo pipefail
out=${1:?usage: build-exe.sh OUT.exe VERSION X.Y.Z}
version=${2:?usage: build-exe.sh OUT.exe VERSION X.Y.Z}
numeric=${3:?usage: build-exe.sh OUT.exe VERSION X.Y.Z}
[[ $numeric =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "build-exe: $numeric is not X.Y.Z" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
host=x86_64-w64-mingw32
prefix=$("$here/build-portaudio.sh")
opus=$("$here/build-opus.sh")
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

# The resources go into the main package as a .syso for the link, and only
# for the time of the build (it is git-ignored).
syso=$root/rsrc_windows_amd64.syso
trap 'rm -f "$syso"' EXIT
"$host-windres" --input-format=rc --output-format=coff \
  -I "$here" -I "$root/assets/icons" \
  -D "VERSION_COMMA=${numeric//./,},0" -D "VERSION_TEXT=\\\"$numeric\\\"" \
  -i "$here/callguard.rc" -o "$syso"

cd "$root"
# PKG_CONFIG_LIBDIR (not _PATH) so pkg-config cannot fall back on the Linux
# portaudio-2.0.pc or opus.pc. -H=windowsgui: no console window behind the
# app.
env CGO_ENABLED=1 GOOS=windows GOARCH=amd64 \
  CC="$host-gcc" CXX="$host-g++" \
  PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig:$opus/lib/pkgconfig" \
  nice -n 19 go build -trimpath \
  -ldflags "-H=windowsgui -s -w -X main.version=$version" \
  -o "$out" .
"$here/sign.sh" "$out"
echo "build-exe: $out" >&2
