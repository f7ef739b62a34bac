#!/usr/bin/env bash
# Lays out callguard.app around a built macOS binary: Info.plist (from
# Info.plist.in and FyneApp.toml), the icon, PkgInfo. Runs anywhere, so the
# layout is tested on Linux (packaging/macos_test.go) with a placeholder
# binary. On macOS it also copies the non-system libraries the binary links
# (PortAudio from Homebrew) into Contents/Frameworks, points the binary at
# them, and signs the bundle: with MACOS_SIGN_IDENTITY ("Developer ID
# Application: …", hardened runtime, for notarisation) or ad hoc.
# Usage: packaging/macos/build-app.sh BINARY VERSION X.Y.Z OUT.app
set -euo pipefail
bin=${1:?usage: build-app.sh BINARY VERSION X.Y.Z OUT.app}
version=${2:?usage: build-app.sh BINARY VERSION X.Y.Z OUT.app}
short=${3:?usage: build-app.sh BINARY VERSION X.Y.Z OUT.app}
app=${4:?usage: build-app.sh BINARY VERSION X.Y.Z OUT.app}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[[ $short =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "build-app: $short is not X.Y.Z" >&2; exit 1; }

toml() { sed -n "s/^$1 *= *\"\\(.*\\)\"/\\1/p" "$root/FyneApp.toml" | head -1; }
xml() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }
sedrepl() { printf '%s' "$1" | sed -e 's/[\/&|]/\\&/g'; }
id=$(toml ID)
mic=$(toml MicrophoneUsage | xml)
[ -n "$id" ] && [ -n "$mic" ] || { echo "build-app: FyneApp.toml lacks ID or MicrophoneUsage" >&2; exit 1; }

rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
install -m 0755 "$bin" "$app/Contents/MacOS/callguard"
cp "$root/assets/icons/callguard.icns" "$app/Contents/Resources/callguard.icns"
printf 'APPL????' >"$app/Contents/PkgInfo"
sed -e "s|@BUNDLE_ID@|$(sedrepl "$id")|g" \
  -e "s|@SHORT_VERSION@|$short|g" \
  -e "s|@VERSION@|$(sedrepl "$(printf '%s' "$version" | xml)")|g" \
  -e "s|@MICROPHONE_USAGE@|$(sedrepl "$mic")|g" \
  "$here/Info.plist.in" | grep -v '^<!-- callguard.app' >"$app/Contents/Info.plist"

if [ "$(uname -s)" = Darwin ]; then
  # Copy every library from outside the system into the bundle, so the app
  # runs on Macs without Homebrew.
  mkdir -p "$app/Contents/Frameworks"
  exe=$app/Contents/MacOS/callguard
  otool -L "$exe" | awk 'NR > 1 {print $1}' | grep -v -e '^/usr/lib/' -e '^/System/' | while read -r lib; do
    name=$(basename "$lib")
    cp -L "$lib" "$app/Contents/Frameworks/$name"
    chmod 0644 "$app/Contents/Frameworks/$name"
    install_name_tool -id "@rpath/$name" "$app/Contents/Frameworks/$name"
    install_name_tool -change "$lib" "@executable_path/../Frameworks/$name" "$exe"
  done
  rmdir "$app/Contents/Frameworks" 2>/dev/null || true
  if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --force --deep --options runtime --timestamp \
      --entitlements "$here/entitlements.plist" -s "$MACOS_SIGN_IDENTITY" "$app"
  else
    codesign --force --deep -s - "$app" # ad hoc: enough to run on Apple silicon
  fi
  plutil -lint "$app/Contents/Info.plist" >&2
fi
echo "build-app: $app" >&2
