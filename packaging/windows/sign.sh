#!/usr/bin/env bash
# Signs a Windows file (exe or MSI) in place with osslsigncode (Authenticode,
# SHA-256) when a certificate is given, and says so when none is:
#   SIGN_PKCS12=cert.pfx [SIGN_PASSWORD_FILE=pass.txt]    a PKCS#12 file, or
#   SIGN_CERT=cert.pem SIGN_KEY=key.pem [SIGN_PASSWORD_FILE=pass.txt]
#   [SIGN_TIMESTAMP_URL=http://timestamp.example]          RFC 3161 server
# The password is read from a file, never from the command line, so it shows
# neither in `ps` nor in logs.
# Usage: packaging/windows/sign.sh FILE
set -euo pipefail
file=${1:?usage: sign.sh FILE}
args=()
if [ -n "${SIGN_PKCS12:-}" ]; then
  args+=(-pkcs12 "$SIGN_PKCS12")
elif [ -n "${SIGN_CERT:-}" ] && [ -n "${SIGN_KEY:-}" ]; then
  args+=(-certs "$SIGN_CERT" -key "$SIGN_KEY")
else
  echo "sign: $(basename "$file") is NOT signed (set SIGN_PKCS12, or SIGN_CERT and SIGN_KEY)" >&2
  exit 0
fi
[ -z "${SIGN_PASSWORD_FILE:-}" ] || args+=(-readpass "$SIGN_PASSWORD_FILE")
[ -z "${SIGN_TIMESTAMP_URL:-}" ] || args+=(-ts "$SIGN_TIMESTAMP_URL")
tmp="$file.signing"
trap 'rm -f "$tmp"' EXIT
osslsigncode sign "${args[@]}" -h sha256 -n callguard \
  -i https://github.com/callguard/callguard -in "$file" -out "$tmp" >/dev/null
mv "$tmp" "$file"
echo "sign: signed $(basename "$file")" >&2
