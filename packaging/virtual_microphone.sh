#!/usr/bin/env bash
# A real virtual microphone for tests (no sound card needed):
#   PulseAudio null sink "vspk"; its monitor is the default source, so whatever is played into
#   vspk (paplay --device=vspk file.wav) is what the microphone records through
#   PulseAudio -> ALSA pulse plugin -> PortAudio -> sounddevice.
# Usage: source <(bash packaging/virtual_microphone.sh start)   # prints the exports
#        bash packaging/virtual_microphone.sh stop
set -euo pipefail
cmd=${1:-start}
case "$cmd" in
  start)
    if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "${XDG_RUNTIME_DIR}" ]; then
      XDG_RUNTIME_DIR=$(mktemp -d /tmp/stethoscan-pulse.XXXXXX)
      chmod 700 "$XDG_RUNTIME_DIR"
    fi
    export XDG_RUNTIME_DIR
    if ! pactl info >/dev/null 2>&1; then
      pulseaudio -D --exit-idle-time=-1 --disallow-exit >/dev/null 2>&1 || true
      for _ in $(seq 1 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
    fi
    if ! pactl list short sinks | grep -q vspk; then
      pactl load-module module-null-sink sink_name=vspk >/dev/null
    fi
    pactl set-default-source vspk.monitor
    echo "export XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"
    ;;
  stop)
    pulseaudio --kill >/dev/null 2>&1 || true
    ;;
esac
