#!/usr/bin/env bash
# Installs the Debian packages callguard needs, only those that are missing.
# Usage: scripts/deps.sh build   # what `make run` and `make build` need
#        scripts/deps.sh all     # plus the test rig and the installer tools
set -euo pipefail

build=(
  gcc pkg-config libc6-dev
  portaudio19-dev libasound2-dev libopus-dev
  libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
)
rig=(
  xvfb x11-utils imagemagick xdotool openbox
  kamailio kamailio-presence-modules kamailio-tls-modules sip-tester baresip sox alsa-utils
  rtpengine-daemon rtpengine-recording-daemon rtpengine-utils
  opus-tools espeak-ng multimon-ng libpocketsphinx-dev pocketsphinx-en-us
  gnome-keyring dbus dbus-x11 libsecret-tools
  postgresql postgresql-client
  msitools wixl osslsigncode gcc-mingw-w64-x86-64 dpkg-dev
  chromium
  ca-certificates git curl
)

want=("${build[@]}")
[ "${1:-build}" = all ] && want+=("${rig[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "deps: these Debian packages are missing and I am not root:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  echo "Run that line (or ask IT to), then run make again." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
install() { "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; }
# A fresh machine has no package lists yet; refresh them only when needed.
if ! install >/tmp/callguard-apt.log 2>&1; then
  "${sudo[@]}" apt-get update -q >>/tmp/callguard-apt.log 2>&1 || true
  install >>/tmp/callguard-apt.log 2>&1 || { tail -30 /tmp/callguard-apt.log >&2; exit 1; }
fi
# Debian starts Kamailio and PostgreSQL as services on install; the tests run
# their own throwaway instances on other ports, so the system ones are left alone.
echo "deps: done"
