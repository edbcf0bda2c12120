#!/usr/bin/env bash
# Idempotent set-up: Debian packages napari needs to render without a screen, uv, and .venv/.
# Called by `make setup` (and therefore by `make demo` / `make test`).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS="xvfb xauth libgl1-mesa-dri libegl1 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 \
libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-xinerama0 libxcb-xfixes0 \
libxcb-shape0 libxcb-cursor0 libdbus-1-3 libfontconfig1"

missing=""
for p in $DEBS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "[setup] installing Debian packages:$missing"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=""; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! command -v uv >/dev/null 2>&1; then
  echo "[setup] installing uv"
  "$PYTHON" -m pip install --quiet uv || "$PYTHON" -m pip install --quiet --break-system-packages uv
fi
UV=$(command -v uv || echo "$PYTHON -m uv")

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $PYTHON"
  $UV venv --quiet --python "$PYTHON" .venv
fi
echo "[setup] installing response-tool and its dependencies into .venv"
$UV pip install --quiet --python .venv/bin/python -e ".[gui,dev]"
