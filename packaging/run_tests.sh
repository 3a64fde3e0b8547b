#!/usr/bin/env bash
# The whole test suite, headless: a virtual microphone (PulseAudio null sink) and a virtual
# screen (Xvfb) for the few tests that start the real window; everything else is offscreen Qt.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
eval "$(bash packaging/virtual_microphone.sh start)"
trap 'bash packaging/virtual_microphone.sh stop' EXIT
export QT_QPA_PLATFORM=offscreen
status=0
xvfb-run -a -s "-screen 0 1600x1000x24" "$VENV/bin/python" -m pytest "$@" || status=$?
exit $status
