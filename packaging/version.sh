#!/usr/bin/env bash
# Prints the numeric version the installers carry (MSI ProductVersion, .deb
# and CFBundleShortVersionString): X.Y.Z when HEAD is tagged vX.Y.Z, else the
# major.minor of FyneApp.toml's Version and the number of commits, so that
# every build of main upgrades the one before.
set -euo pipefail
cd "$(dirname "$0")/.."
if tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null) &&
  [[ $tag =~ ^v([0-9]+\.[0-9]+\.[0-9]+)$ ]]; then
  echo "${BASH_REMATCH[1]}"
  exit 0
fi
base=$(sed -n 's/^Version *= *"\([0-9]*\.[0-9]*\)\..*"/\1/p' FyneApp.toml)
[ -n "$base" ] || { echo "version.sh: no Version in FyneApp.toml" >&2; exit 1; }
count=$(git rev-list --count HEAD 2>/dev/null || echo 0)
echo "$base.$count"
