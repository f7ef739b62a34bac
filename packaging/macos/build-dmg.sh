#!/usr/bin/env bash
# Makes the DMG IT hands to MDM or users: callguard.app beside a link to
# /Applications, compressed (UDZO). macOS only (hdiutil).
# Usage: packaging/macos/build-dmg.sh callguard.app X.Y.Z OUT.dmg
set -euo pipefail
app=${1:?usage: build-dmg.sh APP X.Y.Z OUT.dmg}
version=${2:?usage: build-dmg.sh APP X.Y.Z OUT.dmg}
out=${3:?usage: build-dmg.sh APP X.Y.Z OUT.dmg}
command -v hdiutil >/dev/null || { echo "build-dmg: hdiutil is macOS's; build the DMG on a Mac (or in .github/workflows/release.yml)" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
mkdir -p "$(dirname "$out")"
hdiutil create -volname "callguard $version" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$out" >&2
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp -s "$MACOS_SIGN_IDENTITY" "$out"
fi
hdiutil verify "$out" >&2
echo "build-dmg: $out" >&2
