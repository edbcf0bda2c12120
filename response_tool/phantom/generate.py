"""Generate the phantom: DICOM studies, label maps, ground truth, broken variants."""

from __future__ import annotations

import csv
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from response_tool.domain.errors import ResponseToolError

from . import scenario as sc
from .broken import write_broken_variants
from .render import Grid, render_labels, render_phase, viable_ellipsoid
from .writer import SeriesHeader, add_seconds, uid, write_series

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PhantomResult:
    """Where the phantom was written."""

    root: Path
    patient_dir: Path
    ground_truth_path: Path
    ground_truth: dict[str, Any]


def _axis_endpoints(e: sc.Ellipsoid, half_mm: float, along_u: bool,
                    center: tuple[float, float, float] | None = None) -> list[list[float]]:
    t = math.radians(e.angle_deg + (0.0 if along_u else 90.0))
    cx, cy, cz = center or e.center_xyz_mm
    d = (half_mm * math.cos(t), half_mm * math.sin(t))
    return [[round(cx - d[0], 4), round(cy - d[1], 4), cz], [round(cx + d[0], 4), round(cy + d[1], 4), cz]]


def _lesion_record(lesion: sc.Lesion, k: int, grid: Grid) -> dict[str, Any]:
    state = sc.placed_state(lesion.states[k], k)  # where the lesion lies at this time point
    if state is None:
        return {"timepoint": sc.TIMEPOINTS[k][0], "present": False}
    e = state.total
    slice_index = int(round((e.center_xyz_mm[2] - grid.z0_mm) / grid.slice_mm))
    rec: dict[str, Any] = {
        "timepoint": sc.TIMEPOINTS[k][0],
        "present": True,
        "long_axis_mm": round(2 * e.a_mm, 4),
        "short_axis_mm": round(2 * e.b_mm, 4),
        "viable_long_axis_mm": None if lesion.is_nodal else round(2 * e.a_mm * state.viable_fraction, 4),
        "volume_ml": round(4.0 / 3.0 * math.pi * e.a_mm * e.b_mm * e.c_mm / 1000.0, 4),
        "viable_volume_ml": None if lesion.is_nodal else round(
            4.0 / 3.0 * math.pi * e.a_mm * e.b_mm * e.c_mm * state.viable_fraction ** 3 / 1000.0, 4),
        "center_xyz_mm": [round(v, 4) for v in e.center_xyz_mm],
        "slice_index": slice_index,
        "z_mm": round(grid.z_mm(slice_index), 4),
        "long_axis_endpoints_xyz_mm": _axis_endpoints(e, e.a_mm, True),
        "short_axis_endpoints_xyz_mm": _axis_endpoints(e, e.b_mm, False),
    }
    viable = None if lesion.is_nodal else viable_ellipsoid(state)
    rec["viable_endpoints_xyz_mm"] = (
        _axis_endpoints(viable, viable.a_mm, True) if viable is not None else None)
    return rec


def _sums(k: int) -> dict[str, float]:
    recist = mrecist = 0.0
    for lesion in sc.LESIONS:
        state = lesion.states[k]
        if lesion.role != "target" or state is None:
            continue
        if lesion.is_nodal:
            recist += 2 * state.total.b_mm
            mrecist += 2 * state.total.b_mm  # nodes follow RECIST 1.1 under mRECIST (short axis)
        else:
            recist += 2 * state.total.a_mm
            mrecist += 2 * state.total.a_mm * state.viable_fraction
    return {"recist1.1_sum_mm": round(recist, 4), "mrecist_sum_mm": round(mrecist, 4)}


def _write_label_map(path: Path, labels: np.ndarray, grid: Grid) -> None:
    img = sitk.GetImageFromArray(labels)
    img.SetSpacing((grid.pixel_mm, grid.pixel_mm, grid.slice_mm))
    img.SetOrigin(grid.origin_xyz_mm)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(img, str(path), useCompression=True)


def _measurements_rows(k: int) -> list[dict[str, Any]]:
    rows = []
    date = sc.TIMEPOINTS[k][1].isoformat()
    for lesion in sc.LESIONS:
        state = lesion.states[k]
        if state is None:
            continue
        e = state.total
        is_target = lesion.role == "target"
        # a new lesion is measured too: mRECIST counts a new intrahepatic lesion from 10 mm
        sized = is_target or lesion.role == "new"
        rows.append({
            "patient_id": sc.PATIENT_ID, "reader_id": "GROUND-TRUTH", "timepoint_date": date,
            "lesion_id": lesion.lesion_id, "role": lesion.role, "organ": lesion.organ,
            "is_nodal": str(lesion.is_nodal).lower(),
            "long_axis_mm": f"{2 * e.a_mm:.4f}" if sized else "",
            "short_axis_mm": f"{2 * e.b_mm:.4f}" if sized and lesion.is_nodal else "",
            "viable_long_axis_mm": (f"{2 * e.a_mm * state.viable_fraction:.4f}"
                                    if is_target and not lesion.is_nodal else ""),
            "status": "measured" if sized else "present",
        })
    return rows


#: Bumped whenever the phantom's images or ground truth change (2: follow-ups repositioned,
#: the third liver lesion a non-target): an older phantom on disk is then regenerated.
PHANTOM_VERSION = 2


def is_current(root: str | Path) -> bool:
    """``root`` holds a complete phantom of this :data:`PHANTOM_VERSION`."""
    path = Path(root) / "ground_truth.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("phantom_version") == PHANTOM_VERSION
    except (OSError, ValueError, AttributeError):
        return False


def generate_phantom(outdir: str | Path, seed: int = 0, progress: Progress | None = None,
                     *, force: bool = False) -> PhantomResult:
    """Write the multiphase longitudinal liver phantom to ``outdir``.

    ``ground_truth.json`` is written last: its presence marks a complete phantom.

    Raises
    ------
    ResponseToolError
        If ``outdir`` is a non-empty folder and ``force`` is false.
    """
    root = Path(outdir)
    if root.exists() and not root.is_dir():
        raise ResponseToolError(f"{root} is a file; give a folder for the phantom")
    if root.is_dir() and any(root.iterdir()):
        if not force:
            raise ResponseToolError(
                f"{root} is not empty; choose an empty or new folder, or pass --force to replace it")
        shutil.rmtree(root)
    say = progress or (lambda _msg: None)
    grid = Grid()
    rng = np.random.default_rng(seed)
    patient_dir = root / sc.PATIENT_ID
    frame_uid = uid(seed, "frame-of-reference")
    timepoints = []
    label_maps = []
    for k, ((tp_label, date), proto) in enumerate(zip(sc.TIMEPOINTS, sc.STUDY_PROTOCOLS, strict=True)):
        labels = render_labels(k, grid)
        label_maps.append(labels)
        study_uid = uid(seed, "study", k)
        study_dir = patient_dir / f"{date:%Y%m%d}_{tp_label.replace(' ', '')}"
        series_out = {}
        for n, sp in enumerate(proto.series, start=1):
            say(f"{tp_label} ({date}): {sp.phase} series '{sp.description}'")
            acq = (sc.NON_CONTRAST_TIME if sp.delay_after_contrast_s is None
                   else add_seconds(sc.CONTRAST_START_TIME, sp.delay_after_contrast_s))
            header = SeriesHeader(
                study_uid=study_uid, series_uid=uid(seed, "series", k, n),
                frame_of_reference_uid=frame_uid, study_date=date, study_id=str(k + 1),
                accession=f"RTP{seed:03d}{k + 1:03d}", series_number=n + 1,
                description=sp.description, study_description=proto.study_description,
                manufacturer=proto.manufacturer, model=proto.model, acquisition_time=acq,
                contrast=sp.delay_after_contrast_s is not None)
            hu = render_phase(labels, sp.phase, rng, grid)
            folder = study_dir / f"S{n + 1:02d}"
            write_series(folder, header, hu, seed, grid.z0_mm, grid.xy0_mm,
                         cranial_first=proto.instance_numbers_cranial_first)
            series_out[sp.phase] = {
                "series_instance_uid": header.series_uid, "description": sp.description,
                "folder": str(folder.relative_to(root)),
                "acquisition_time": acq.isoformat(),
            }
        label_path = patient_dir / "masks" / f"{date:%Y%m%d}_liver_tumour_labels.nii.gz"
        _write_label_map(label_path, labels, grid)
        liver_voxels = int(np.isin(labels, (sc.LIVER_LABEL, *sc.TUMOUR_LABELS)).sum())
        tumour_voxels = int(np.isin(labels, sc.TUMOUR_LABELS).sum())
        timepoints.append({
            "label": tp_label, "date": date.isoformat(), "study_instance_uid": study_uid,
            "series": series_out,
            "label_map": str(label_path.relative_to(root)),
            "liver_volume_ml": round(liver_voxels * grid.voxel_ml, 4),
            "tumour_volume_ml": round(tumour_voxels * grid.voxel_ml, 4),
            "htb_pct": round(100.0 * tumour_voxels / liver_voxels, 4),
            "patient_motion": {"translation_xyz_mm": list(sc.MOTION[k][:3]),
                               "rotation_deg": sc.MOTION[k][3],
                               "pivot_xyz_mm": list(sc.MOTION_PIVOT_XYZ_MM)},
            **_sums(k),
        })
    lesions = [{
        "lesion_id": les.lesion_id, "role": les.role, "organ": les.organ,
        "is_nodal": les.is_nodal, "note": les.note,
        "timepoints": [_lesion_record(les, k, grid) for k in range(len(sc.TIMEPOINTS))],
    } for les in sc.LESIONS]
    say("broken variants for the loader's error tests")
    broken = write_broken_variants(root / "broken", seed)
    with open(root / "ground_truth_measurements.csv", "w", newline="", encoding="utf-8") as fh:
        rows = [r for k in range(len(sc.TIMEPOINTS)) for r in _measurements_rows(k)]
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ground_truth = {
        "generator": "response-tool phantom", "phantom_version": PHANTOM_VERSION, "seed": seed,
        "patient_id": sc.PATIENT_ID,
        "patient_dir": str(patient_dir.relative_to(root)),
        "grid": {"matrix": grid.matrix, "n_slices": grid.n_slices,
                 "spacing_zyx_mm": [grid.slice_mm, grid.pixel_mm, grid.pixel_mm],
                 "origin_xyz_mm": list(grid.origin_xyz_mm)},
        "labels": {str(k): v[0] for k, v in sc.TISSUES.items()},
        "liver_labels": [sc.LIVER_LABEL, *sc.TUMOUR_LABELS],
        "tumour_labels": list(sc.TUMOUR_LABELS),
        "timepoints": timepoints,
        "lesions": lesions,
        "expected_responses": sc.EXPECTED_RESPONSES,
        "definitions": {
            "long_axis_mm": "longest in-plane (axial) diameter of the whole lesion",
            "short_axis_mm": "longest in-plane diameter perpendicular to the long axis",
            "viable_long_axis_mm": "longest axial diameter of the arterially enhancing (viable) "
                                   "part, necrosis excluded (mRECIST); null for lymph nodes",
            "htb_pct": "voxels of tumour labels / voxels of liver + tumour labels × 100",
        },
        "broken_variants": broken,
    }
    path = root / "ground_truth.json"
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(ground_truth, indent=2), encoding="utf-8")
    tmp.replace(path)
    return PhantomResult(root, patient_dir, path, ground_truth)


def baseline_focus(ground_truth: dict[str, Any]) -> dict[str, Any]:
    """Where a reader starts: the baseline plane of the first target lesion's longest diameter."""
    for lesion in ground_truth.get("lesions", []):
        first = lesion["timepoints"][0]
        if lesion["role"] == "target" and first.get("present"):
            return {"lesion_id": lesion["lesion_id"], "z_mm": first["z_mm"],
                    "slice_index": first["slice_index"]}
    return {}
