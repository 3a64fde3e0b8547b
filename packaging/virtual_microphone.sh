#!/usr/bin/env bash
# A real virtual microphone for tests (no sound card needed):
#   PulseAudio null sink "vspk" (48 kHz stereo); its monitor is the default source, so whatever
#   is played into vspk (paplay --device=vspk file.wav) is what the microphone records through
#   PulseAudio -> ALSA pulse plugin -> PortAudio -> sounddevice (device "pulse" or "default").
# Usage: eval "$(bash packaging/virtual_microphone.sh start)"   # prints the export line
#        bash packaging/virtual_microphone.sh reload   # load vspk again (after an "unplug" test)
#        bash packaging/virtual_microphone.sh stop     # stops the daemon of $XDG_RUNTIME_DIR
# A running daemon reachable through $XDG_RUNTIME_DIR is reused; otherwise one is started in a
# new private runtime dir.
set -euo pipefail
cmd=${1:-start}

ensure_sink() {
  if ! pactl list short sinks | grep -q -w vspk; then
    pactl load-module module-null-sink sink_name=vspk rate=48000 channels=2 \
      sink_properties=device.description=Stethoscan-virtual-speaker >/dev/null
  fi
  pactl set-default-source vspk.monitor
  pactl set-sink-volume vspk 100% >/dev/null 2>&1 || true
}

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
    pactl info >/dev/null 2>&1 || { echo "echo 'virtual microphone: PulseAudio did not start' >&2"; exit 1; }
    ensure_sink
    echo "export XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"
    ;;
  reload)
    ensure_sink
    ;;
  stop)
    pulseaudio --kill >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|reload|stop" >&2
    exit 2
    ;;
esac
