#!/usr/bin/env bash
# Builds callguard's MSI with wixl from callguard.wxs, signing the exe inside
# and the MSI itself when a certificate is given (see sign.sh).
# Usage: packaging/windows/build-msi.sh callguard.exe VERSION OUT.msi
# VERSION is numeric, X.Y.Z (packaging/version.sh).
set -euo pipefail
exe=${1:?usage: build-msi.sh EXE VERSION OUT.msi}
version=${2:?usage: build-msi.sh EXE VERSION OUT.msi}
out=${3:?usage: build-msi.sh EXE VERSION OUT.msi}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "build-msi: version $version is not X.Y.Z" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for tool in wixl msibuild msiinfo osslsigncode; do
  command -v "$tool" >/dev/null || { echo "build-msi: $tool is missing: make deps installs msitools, wixl and osslsigncode" >&2; exit 1; }
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# wixl resolves sources relative to the .wxs, so everything goes in one place.
cp "$exe" "$stage/callguard.exe"
cp "$root/assets/icons/callguard.ico" "$here/callguard.wxs" "$stage/"
# make msi signs the exe when it builds it; a given unsigned one is signed here.
if ! osslsigncode extract-signature -in "$stage/callguard.exe" -out "$stage/exe.sig" >/dev/null 2>&1; then
  "$here/sign.sh" "$stage/callguard.exe"
fi
rm -f "$stage/exe.sig"
(cd "$stage" && wixl -a x64 -D Version="$version" -D Exe=callguard.exe -D Icon=callguard.ico \
  -o callguard.msi callguard.wxs)

# wixl writes SecureCustomProperties itself (for the upgrade); IT's
# properties join it so they reach the elevated part of a UI install.
secure=$(msiinfo export "$stage/callguard.msi" Property | awk -F'\t' '$1 == "SecureCustomProperties" {print $2}')
public="SERVER_URL;PHONE_SYSTEM;PHONE_TRANSPORT;PHONE_DOMAIN;RECIPIENT;ALLOWED_ORIGINS;LOCAL_API_PORT;AUTOSTART"
msibuild "$stage/callguard.msi" -q "UPDATE \`Property\` SET \`Value\` = '${secure:+$secure;}$public' WHERE \`Property\` = 'SecureCustomProperties'"

"$here/sign.sh" "$stage/callguard.msi"
mkdir -p "$(dirname "$out")"
mv "$stage/callguard.msi" "$out"
echo "build-msi: $out ($(du -h "$out" | cut -f1))" >&2
