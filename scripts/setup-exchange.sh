#!/usr/bin/env bash
# Best-effort set-up of the exchange tests' outside tools (docs/exchange.md), called by .ci/run
# before `make test`:
#   * Debian packages: dicom3tools (dciodvfy, the SR/SEG validator), dcmtk (dsrdump), orthanc and
#     orthanc-dicomweb (a PACS for the DICOMweb tests; the tests start their own on a loopback
#     port, so the system service the package starts is stopped and disabled);
#   * dcmqi (PyPI) in its own venv, /opt/response-tool-exchange, for tid1500writer.
# Without root, apt or the network, it says what is missing and exits 0: the tests that need a
# tool skip with a message naming it.
set -uo pipefail

say() { echo "[setup-exchange] $*"; }
DEBS="dicom3tools dcmtk orthanc orthanc-dicomweb"

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=""
  for p in $DEBS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    say "installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || say "apt-get update failed; trying the install anyway"
    apt-get install -y -qq $missing >/dev/null 2>&1 || say "could not install$missing; the tests that need them will skip"
  fi
  if command -v systemctl >/dev/null 2>&1; then
    systemctl stop orthanc >/dev/null 2>&1 || true
    systemctl disable orthanc >/dev/null 2>&1 || true
  fi
  if command -v service >/dev/null 2>&1; then service orthanc stop >/dev/null 2>&1 || true; fi
else
  say "not root or no apt-get: install $DEBS yourself for the validator and PACS tests (they skip without them)"
fi

TOOLS=/opt/response-tool-exchange
if [ ! -x "$TOOLS/bin/tid1500writer" ]; then
  if command -v uv >/dev/null 2>&1 && { [ -w /opt ] || [ -w "$TOOLS" ]; }; then
    (uv venv -q "$TOOLS" && uv pip install -q --python "$TOOLS/bin/python" dcmqi) \
      || say "could not install dcmqi into $TOOLS; the dcmqi SR tests will skip"
  else
    say "no uv or $TOOLS not writable: the dcmqi SR tests will skip (pip install dcmqi)"
  fi
fi
exit 0
