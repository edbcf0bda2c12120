"""A real Orthanc with its DICOMweb plugin for the tests (exchange and the PACS panel): started on
a free loopback port with its storage in a temporary folder, stopped afterwards. Skips with what
to install where the Debian packages are missing (scripts/setup-exchange.sh installs them)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_orthanc(root: Path, name: str = "response-tool-test") -> Iterator[str]:
    """Orthanc serving ``root`` (created); yields its DICOMweb root URL."""
    exe = shutil.which("Orthanc") or ("/usr/sbin/Orthanc" if Path("/usr/sbin/Orthanc").exists()
                                      else None)
    if exe is None or not PLUGIN.exists():
        pytest.skip("Orthanc with its DICOMweb plugin is not installed (Debian: apt-get install "
                    "orthanc orthanc-dicomweb; scripts/setup-exchange.sh does it)")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = {"Name": name, "StorageDirectory": str(root / "db"),
              "IndexDirectory": str(root / "db"), "HttpPort": port, "DicomServerEnabled": False,
              "DicomPort": free_port(), "RemoteAccessAllowed": False,
              "AuthenticationEnabled": False, "Plugins": [str(PLUGIN)],
              "DicomWeb": {"Enable": True, "Root": "/dicom-web/"}}
    (root / "orthanc.json").write_text(json.dumps(config))
    with open(root / "orthanc.log", "w") as log:
        proc = subprocess.Popen([exe, str(root / "orthanc.json")], stdout=log, stderr=log)
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/system", timeout=1).read()
                    break
                except OSError:
                    if proc.poll() is not None:
                        pytest.fail(f"Orthanc exited: {(root / 'orthanc.log').read_text()[-2000:]}")
                    time.sleep(0.2)
            else:
                pytest.fail("Orthanc did not answer within 20 s")
            yield f"http://127.0.0.1:{port}/dicom-web"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
