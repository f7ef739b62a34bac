#!/usr/bin/env bash
# Builds libopus for 64-bit Windows with mingw-w64, from Debian's source of
# opus, as a static library (floating point, with run-time CPU detection of
# SSE4.1 and AVX, as Debian builds it). Idempotent: when the library is
# already built it only prints the prefix.
#
# Usage: packaging/windows/build-opus.sh   # prints the install prefix
# The prefix is $OPUS_MINGW_PREFIX, or under $XDG_CACHE_HOME (~/.cache), so
# every clone on a machine (and CI) shares one build. Link with
#   PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig
# (beside PortAudio's, build-portaudio.sh), so that pkg-config cannot fall
# back on the Linux opus.pc.
set -euo pipefail

version=1.3.1
cache=${XDG_CACHE_HOME:-$HOME/.cache}/callguard
prefix=${OPUS_MINGW_PREFIX:-$cache/opus-mingw-$version}
host=x86_64-w64-mingw32

built() { [ -f "$prefix/lib/libopus.a" ] && [ -f "$prefix/lib/pkgconfig/opus.pc" ]; }
if built; then
  echo "$prefix"
  exit 0
fi

log() { echo "build-opus: $*" >&2; }
# One build at a time (a test and a make may start together); the second
# one finds the library built.
mkdir -p "$cache"
exec 9>"$cache/opus-mingw.lock"
flock 9
if built; then
  echo "$prefix"
  exit 0
fi
command -v "$host-gcc" >/dev/null || { log "$host-gcc is missing: make deps installs gcc-mingw-w64-x86-64"; exit 1; }
command -v dpkg-source >/dev/null || { log "dpkg-source is missing: make deps installs dpkg-dev"; exit 1; }

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo -n)

# apt-get source needs a deb-src entry; add one for the release this machine
# runs, beside the machine's own sources, once (as build-portaudio.sh does).
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
log "fetching the Debian source of opus"
if ! apt-get source -q --download-only opus >&2 2>"$work/apt.err"; then
  # The package lists may predate the deb-src entry (a machine kept from before).
  "${sudo[@]}" apt-get update -q >&2
  apt-get source -q --download-only opus >&2
fi
dsc=$(ls opus_*.dsc | head -1)
dpkg-source --no-check -x "$dsc" src >&2
cd src
got=$(sed -n 's/^PACKAGE_VERSION=.\([0-9.]*\).*/\1/p' configure | head -1)
[ "$got" = "$version" ] || log "note: the source is opus $got, the cache is named for $version"

log "configuring for $host (static, float, run-time CPU detection)"
# The release tarball carries a generated configure, fine for cross builds.
# -O2 and no debug info keep the library small; no docs, no test programs.
# _FORTIFY_SOURCE=0: configure adds =2 for gcc unless it is set, and the
# fortified memcpy of mingw's headers needs libssp, which Go's link of the
# exe does not bring (undefined __memcpy_chk). Neither does the stack
# protector (--disable-hardening).
CFLAGS="-O2 -D_FORTIFY_SOURCE=0" ./configure --host="$host" --prefix="$prefix" \
  --enable-static --disable-shared --disable-doc --disable-extra-programs \
  --disable-hardening \
  >"$work/configure.log" 2>&1 ||
  { tail -40 "$work/configure.log" >&2; exit 1; }
log "building"
make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; exit 1; }
mkdir -p "$prefix"
make install >"$work/install.log" 2>&1 || { tail -40 "$work/install.log" >&2; exit 1; }
log "built into $prefix"
echo "$prefix"
