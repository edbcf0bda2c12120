"""Small broken DICOM series for the loader's error tests (64×64, a few slices each).

| variant | what is wrong | what the loader should do |
|---|---|---|
| one_slice | a single slice | load with a warning: no spacing from positions |
| missing_slice | slice 4 of 8 removed | warn: about 1 slice missing, gap position |
| mixed_orientation | axial and coronal slices share one SeriesInstanceUID | split into two sub-series |
| truncated_file | one file cut in the middle of its pixel data | error naming that file |
| jpeg2000 | a valid JPEG 2000 lossless series | load through the pylibjpeg decoder |
| non_dicom_file | a valid series plus a text file and a PNG without extensions | skip them with a note |
| missing_pixel_spacing | PixelSpacing removed from every file | error: cannot measure in mm |
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.uid import JPEG2000Lossless

from .writer import SeriesHeader, uid, write_series

SIZE = 64
N = 6
_PNG_BYTES = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00"
              b"\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
              b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def _cube(rng: np.random.Generator, n: int) -> np.ndarray:
    img = np.full((n, SIZE, SIZE), -1000, dtype=np.int16)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    disc = (yy - SIZE / 2) ** 2 + (xx - SIZE / 2) ** 2 < (SIZE / 3) ** 2
    img[:, disc] = 60
    return (img + rng.normal(0, 10, img.shape)).astype(np.int16)


def _small_series(folder: Path, seed: int, name: str, n: int = N) -> list[Path]:
    rng = np.random.default_rng(seed)
    header = SeriesHeader(
        study_uid=uid(seed, "broken-study"), series_uid=uid(seed, "broken", name),
        frame_of_reference_uid=uid(seed, "broken-frame"), study_date=dt.date(2026, 1, 12),
        study_id="99", accession="BROKEN", series_number=1, description=f"broken {name}",
        study_description="broken variants", manufacturer="response-tool", model="phantom",
        acquisition_time=dt.time(9, 0), contrast=False)
    paths = write_series(folder, header, _cube(rng, n), seed, 0.0, -25.0, cranial_first=False)
    for p in paths:  # the small variants use 64×64 at 0.78 mm
        ds = pydicom.dcmread(p)
        ds.Rows = ds.Columns = SIZE
        pydicom.dcmwrite(p, ds)
    return paths


def write_broken_variants(root: Path, seed: int) -> dict[str, Any]:
    """Write every broken variant under ``root``; returns a description of each."""

    out: dict[str, Any] = {}
    one = _small_series(root / "one_slice", seed, "one_slice", n=1)
    out["one_slice"] = {"files": 1, "expect": "warning: single slice", "file": one[0].name}

    paths = _small_series(root / "missing_slice", seed, "missing_slice", n=8)
    paths[3].unlink()
    out["missing_slice"] = {"files": 7, "expect": "warning: missing slice", "removed": paths[3].name}

    axial = _small_series(root / "mixed_orientation" / "axial", seed, "mixed")
    coronal = _small_series(root / "mixed_orientation" / "coronal", seed + 1, "mixed-coronal")
    first = pydicom.dcmread(axial[0], stop_before_pixels=True)
    for p in coronal:
        ds = pydicom.dcmread(p)
        ds.StudyInstanceUID = first.StudyInstanceUID
        ds.SeriesInstanceUID = first.SeriesInstanceUID
        ds.SeriesDescription = first.SeriesDescription
        ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid(seed, "coronal", p.name)
        z = float(ds.ImagePositionPatient[2])
        ds.ImagePositionPatient = [-25.0, z - 10.0, 25.0]
        pydicom.dcmwrite(p, ds)
    out["mixed_orientation"] = {"files": 2 * N, "expect": "split into 2 sub-series"}

    paths = _small_series(root / "truncated_file", seed, "truncated")
    victim = paths[2]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) - SIZE * SIZE])  # cut half of the pixel data
    out["truncated_file"] = {"files": N, "expect": "error naming the file", "file": victim.name}

    paths = _small_series(root / "jpeg2000", seed, "jpeg2000")
    for p in paths:
        ds = pydicom.dcmread(p)
        ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg", generate_instance_uid=False)
        pydicom.dcmwrite(p, ds)
    out["jpeg2000"] = {"files": N, "expect": "loads (JPEG 2000 lossless)",
                       "transfer_syntax": str(JPEG2000Lossless)}

    _small_series(root / "non_dicom_file", seed, "with_extra_files")
    (root / "non_dicom_file" / "NOTES").write_text("scanner export notes\n", encoding="utf-8")
    (root / "non_dicom_file" / "THUMB").write_bytes(_PNG_BYTES)
    out["non_dicom_file"] = {"files": N + 2, "expect": "2 files skipped as not DICOM"}

    paths = _small_series(root / "missing_pixel_spacing", seed, "no_spacing")
    for p in paths:
        ds = pydicom.dcmread(p)
        del ds.PixelSpacing
        pydicom.dcmwrite(p, ds)
    out["missing_pixel_spacing"] = {"files": N, "expect": "error: no PixelSpacing"}
    return out
