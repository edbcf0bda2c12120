#!/usr/bin/env bash
# Idempotent set-up of .venv/ from uv.lock. Called by `make setup` (and so by `make demo` /
# `make test`) and, with --core, by `make setup-core`.
#
#   bash scripts/setup.sh          the core, the napari plugin with PyQt6, the test and lint tools
#   bash scripts/setup.sh --core   the core and its test tools only: no napari, no Qt, no system
#                                  packages (the GUI tests are skipped)
#
# On Debian as root (or with sudo), the system libraries napari needs to render without a screen
# are installed first; elsewhere (another distribution, macOS, no root) that step is skipped with
# a message naming what the GUI tests need, and the venv is still created.
# The environment is installed exactly as uv.lock says (`uv sync --locked`); a uv.lock that no
# longer matches pyproject.toml stops the set-up with what to do (docs/install.md).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
case "${1:-}" in
  --core) mode=core ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--core]" >&2; exit 2 ;;
esac

say() { echo "[setup] $*"; }

# -- system packages for the GUI (Xvfb, Mesa OpenGL, the xcb libraries Qt loads) -------------------
DEBS="xvfb xauth libgl1-mesa-dri libegl1 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 \
libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-xinerama0 libxcb-xfixes0 \
libxcb-shape0 libxcb-cursor0 libdbus-1-3 libfontconfig1"
GUI_NEEDS="an X server without a screen (Xvfb, with xauth), Mesa OpenGL/EGL, libxkbcommon-x11, \
the xcb libraries Qt 6 loads (icccm, image, keysyms, randr, render-util, xinerama, xfixes, shape, \
cursor), D-Bus and fontconfig; the Debian names are listed in scripts/setup.sh"

system_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    say "not a Debian-like system: skipping the system packages. The GUI tests need $GUI_NEEDS." \
        "Install them with your package manager (macOS needs none), or run 'make setup-core'."
    return 0
  fi
  local missing="" p
  for p in $DEBS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo"
    else
      say "not root and no password-less sudo: skipping the Debian packages$missing." \
          "The GUI tests need them: run 'sudo apt-get install$missing' once, or 'make setup-core'" \
          "for the core only."
      return 0
    fi
  fi
  say "installing Debian packages:$missing"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

[ "$mode" = full ] && system_packages

# -- uv ------------------------------------------------------------------------------------------------
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "[setup] error: no python3.11 or python3 on PATH; install Python >= 3.11 (or set PYTHON=...)" >&2
  exit 1
fi
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
elif "$PYTHON" -m uv --version >/dev/null 2>&1; then
  UV=("$PYTHON" -m uv)
else
  say "installing uv (pip install uv)"
  if [ "$(id -u)" -eq 0 ]; then
    "$PYTHON" -m pip install --quiet uv || "$PYTHON" -m pip install --quiet --break-system-packages uv
  else
    "$PYTHON" -m pip install --quiet --user uv || "$PYTHON" -m pip install --quiet --user --break-system-packages uv
  fi
  UV=("$PYTHON" -m uv)
fi

# -- .venv from uv.lock ------------------------------------------------------------------------------
if ! "${UV[@]}" lock --check --quiet 2>/dev/null; then
  echo "[setup] error: uv.lock does not match pyproject.toml (a dependency was added or changed" \
       "without re-locking). Run 'uv lock', check the diff of uv.lock and commit it with" \
       "pyproject.toml (docs/install.md, Re-locking)." >&2
  exit 1
fi
if [ "$mode" = core ]; then
  extras=(--extra testing)
  say "installing the core and its test tools into .venv from uv.lock"
else
  extras=(--extra dev)
  say "installing response-tool, the napari plugin and the dev tools into .venv from uv.lock"
fi
# --locked: install exactly the lock; --python: the interpreter of a new .venv
"${UV[@]}" sync --locked --quiet --python "$PYTHON" "${extras[@]}"
