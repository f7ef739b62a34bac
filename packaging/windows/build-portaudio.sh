#!/usr/bin/env bash
# Builds PortAudio for 64-bit Windows with mingw-w64, from Debian's source of
# portaudio19, as a static library with the WMME and DirectSound host APIs
# (WASAPI of 19.6 does not compile against mingw's headers). Idempotent: when
# the library is already built it only prints the prefix.
#
# Usage: packaging/windows/build-portaudio.sh   # prints the install prefix
# The prefix is $PORTAUDIO_MINGW_PREFIX, or under $XDG_CACHE_HOME (~/.cache),
# so every clone on a machine (and CI) shares one build.
set -euo pipefail

version=19.6.0
cache=${XDG_CACHE_HOME:-$HOME/.cache}/callguard
prefix=${PORTAUDIO_MINGW_PREFIX:-$cache/portaudio-mingw-$version}
host=x86_64-w64-mingw32

if [ -f "$prefix/lib/libportaudio.a" ] && [ -f "$prefix/lib/pkgconfig/portaudio-2.0.pc" ]; then
  echo "$prefix"
  exit 0
fi

log() { echo "build-portaudio: $*" >&2; }
# One build at a time (a test and a make may start together); the second
# one finds the library built.
mkdir -p "$cache"
exec 9>"$cache/portaudio-mingw.lock"
flock 9
if [ -f "$prefix/lib/libportaudio.a" ] && [ -f "$prefix/lib/pkgconfig/portaudio-2.0.pc" ]; then
  echo "$prefix"
  exit 0
fi
command -v "$host-gcc" >/dev/null || { log "$host-gcc is missing: make deps installs gcc-mingw-w64-x86-64"; exit 1; }
command -v dpkg-source >/dev/null || { log "dpkg-source is missing: make deps installs dpkg-dev"; exit 1; }

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo -n)

# apt-get source needs a deb-src entry; add one for the release this machine
# runs, beside the machine's own sources, once.
src_list=/etc/apt/sources.list.d/callguard-src.sources
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  . /etc/os-release
  codename=${VERSION_CODENAME:-bookworm}
  if [ "${ID:-debian}" = ubuntu ]; then
    uris=http://archive.ubuntu.com/ubuntu components="main universe" keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg
  else
    uris=http://deb.debian.org/debian components=main keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  fi
  log "adding a deb-src entry for $codename ($src_list)"
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\nSigned-By: %s\n' \
    "$uris" "$codename" "$components" "$keyring" | "${sudo[@]}" tee "$src_list" >/dev/null
  "${sudo[@]}" apt-get update -q >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
log "fetching the Debian source of portaudio19"
if ! apt-get source -q --download-only portaudio19 >&2 2>"$work/apt.err"; then
  # The package lists may predate the deb-src entry (a machine kept from before).
  "${sudo[@]}" apt-get update -q >&2
  apt-get source -q --download-only portaudio19 >&2
fi
dsc=$(ls portaudio19_*.dsc | head -1)
dpkg-source --no-check -x "$dsc" src >&2
cd src

log "configuring for $host (wmme, directx; static)"
# The Debian tree carries a configure generated for Linux; it is fine for
# cross builds. -O2 and no debug info keep the library small.
CFLAGS="-O2" ./configure --host="$host" --prefix="$prefix" \
  --with-winapi=wmme,directx --enable-static --disable-shared \
  --without-jack --without-alsa --without-oss >"$work/configure.log" 2>&1 ||
  { tail -40 "$work/configure.log" >&2; exit 1; }
log "building"
make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; exit 1; }
mkdir -p "$prefix"
make install >"$work/install.log" 2>&1 || { tail -40 "$work/install.log" >&2; exit 1; }
log "built into $prefix"
echo "$prefix"
