#!/usr/bin/env bash
# Builds callguard's Debian package from a built Linux binary with
# dpkg-deb. IT's machine-wide settings go in /etc/callguard/managed.json; the
# package ships an example of it, not the file, so that no upgrade ever
# touches what IT deployed.
# Usage: packaging/linux/build-deb.sh BINARY X.Y.Z OUT.deb
set -euo pipefail
bin=${1:?usage: build-deb.sh BINARY X.Y.Z OUT.deb}
version=${2:?usage: build-deb.sh BINARY X.Y.Z OUT.deb}
out=${3:?usage: build-deb.sh BINARY X.Y.Z OUT.deb}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
icons=$root/assets/icons
command -v dpkg-deb >/dev/null || { echo "build-deb: dpkg-deb is missing" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg=$stage/callguard
install -D -m 0755 "$bin" "$pkg/usr/bin/callguard"
install -D -m 0644 "$here/callguard.desktop" "$pkg/usr/share/applications/callguard.desktop"
for n in 16 24 32 48 64 128 256; do
  install -D -m 0644 "$icons/callguard-$n.png" "$pkg/usr/share/icons/hicolor/${n}x${n}/apps/callguard.png"
done
install -D -m 0644 "$icons/callguard.png" "$pkg/usr/share/icons/hicolor/512x512/apps/callguard.png"
install -D -m 0644 "$icons/callguard.svg" "$pkg/usr/share/icons/hicolor/scalable/apps/callguard.svg"
install -D -m 0644 "$here/managed.json.example" "$pkg/usr/share/doc/callguard/examples/managed.json"
install -D -m 0644 "$root/docs/deploy.md" "$pkg/usr/share/doc/callguard/deploy.md"

# The libraries the binary links (see TestDebDependsCoversEveryLinkedLibrary).
depends="libc6 (>= 2.34), libportaudio2 (>= 19.6.0), libopus0 (>= 1.3), libgl1, libx11-6, libxcursor1, libxrandr2, libxinerama1, libxi6, libxxf86vm1"
mkdir -p "$pkg/DEBIAN"
cat >"$pkg/DEBIAN/control" <<CONTROL
Package: callguard
Version: $version
Architecture: amd64
Maintainer: callguard developers <packaging@callguard.invalid>
Installed-Size: $(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
Depends: $depends
Recommends: gnome-keyring
Section: net
Priority: optional
Homepage: https://github.com/callguard/callguard
Description: keeps call recordings within data-protection law
 callguard runs beside a contact-centre officer's softphone. It learns call
 state from the phone system, shows whether the current call is recorded,
 lets the officer pause for card payments and sensitive moments, and records
 only what the organisation's policy allows, encrypted to the organisation.
 .
 Machine-wide settings: /etc/callguard/managed.json (an example is in
 /usr/share/doc/callguard/examples/managed.json).
CONTROL
# The desktop database and icon caches are refreshed by Debian's triggers.
mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
echo "build-deb: $out ($(du -h "$out" | cut -f1))" >&2
