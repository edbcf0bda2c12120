"""Reads of the phantom built from its ground truth (no viewer), in a store, for the exchange
tests: ``DEMO`` as the demo reads it, ``R2^Second`` with every lesion status, an override reason
and a free-text site."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest

from response_tool.domain.model import Measurement
from response_tool.reading.store import ReadStore

#: R2's changes to the ground truth: (lesion, time point index) → status
R2_STATUSES = {("T2", 1): "too-small", ("NT1", 1): "absent", ("N1", 1): "not-evaluated",
               ("NT1", 2): "progression", ("NEW1", 2): "equivocal"}


def _zyx(p: list[float]) -> tuple[float, float, float]:
    return (p[2], p[1], p[0])


def _fill(store: ReadStore, gt: dict, reader: str) -> None:
    key = store.open_read(gt["patient_id"], reader)
    second = reader != "DEMO"
    for k, tp in enumerate(gt["timepoints"]):
        store.add_timepoint(key, tp["date"], tp["study_instance_uid"])
        pv = tp["series"]["portal-venous"]["series_instance_uid"]
        art = tp["series"]["arterial"]["series_instance_uid"]
        for les in gt["lesions"]:
            t = les["timepoints"][k]
            lid = les["lesion_id"]
            if not t.get("present"):
                continue
            if lid not in {x.lesion_id for x in store.lesions(key)}:
                organ = "liver segment 6" if (second and lid == "T2") else les["organ"]
                store.add_lesion(key, les["role"], organ, les["is_nodal"], lesion_id=lid)
                if second and lid == "T1":
                    store.update_lesion(key, lid, override_reason="kept: clearly measurable")
            fields: dict = {"series_uid": pv, "phase": "portal-venous",
                            "slice_index": t["slice_index"]}
            status = R2_STATUSES.get((lid, k)) if second else None
            if les["role"] == "non-target" or status is not None:
                fields["mark_point"] = _zyx(t["center_xyz_mm"])
            else:
                ends = [_zyx(p) for p in t["long_axis_endpoints_xyz_mm"]]
                fields.update(long_axis_mm=round(math.dist(*ends), 2), long_endpoints=ends)
                if les["is_nodal"]:
                    s = [_zyx(p) for p in t["short_axis_endpoints_xyz_mm"]]
                    fields.update(short_axis_mm=round(math.dist(*s), 2), short_endpoints=s)
                elif t.get("viable_endpoints_xyz_mm") and les["role"] == "target":
                    v = [_zyx(p) for p in t["viable_endpoints_xyz_mm"]]
                    fields.update(viable_long_axis_mm=round(math.dist(*v), 2),
                                  viable_endpoints=v, viable_series_uid=art,
                                  viable_phase="arterial")
            store.save_measurement(key, Measurement(lid, tp["date"], status=status or
                                                    "measured" if "long_axis_mm" in fields
                                                    else status or "present", **fields))


@pytest.fixture(scope="session")
def phantom_store(phantom_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the reads ``DEMO`` and ``R2^Second`` of the phantom patient."""
    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    path = tmp_path_factory.mktemp("exchange") / "reads.sqlite"
    with ReadStore(path) as store:
        _fill(store, gt, "DEMO")
        _fill(store, gt, "R2^Second")
    return path


@pytest.fixture(scope="session")
def patient_dir(phantom_dir: Path) -> Path:
    return phantom_dir / "RT-PHANTOM-001"


def tool(name: str) -> str:
    """The path of a validator, or a skip saying how to install it."""
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (Debian: apt-get install dicom3tools dcmtk; "
                    "scripts/setup-exchange.sh does it)")
    return found


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)
