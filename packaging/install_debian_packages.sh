#!/usr/bin/env bash
# Installs the Debian packages Stethoscan uses, only those missing.
#   runtime: PortAudio (microphone), the X/EGL libraries Qt needs
#   tests:   Xvfb (real window screenshots), PulseAudio + ALSA plugin (virtual microphone),
#            espeak-ng and sox (known speech, audio checks), dcmtk (independent DICOM decoder)
set -euo pipefail
packages=(
  libportaudio2 libsndfile1
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libxcb-xkb1
  xvfb xauth x11-utils
  pulseaudio pulseaudio-utils libasound2-plugins
  espeak-ng sox dcmtk
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
