"""Uncompressed slices read straight into the volume and rescaled while still in the cache (issue
17): every rescale case gives what pydicom's pixels × RescaleSlope + RescaleIntercept give — int16
when that is lossless, float32 when it is not (one slice out of int16's range is enough, and the
slices already shifted are put back), on one thread or several, with progress to the end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pydicom
import pytest

from response_tool.io import dicom_load, load_series, scan_dicom
from response_tool.phantom.writer import SeriesHeader, uid, write_series

N, SIZE = 6, 40


def _series(folder: Path, stored: np.ndarray, signed: bool, intercepts: list[float],
            slopes: list[float] | None = None) -> Path:
    """Uncompressed explicit VR files of ``stored`` (N, SIZE, SIZE) with the given rescale."""
    header = SeriesHeader(uid(7, "study"), uid(7, folder.name), uid(7, "frame"),
                          dt.date(2026, 1, 1), "1", "LOAD", 2, folder.name, "t", "rt", "t",
                          dt.time(9), False)
    plain = folder.parent / f"{folder.name}-plain"
    paths = write_series(plain, header, np.zeros((N, 512, 512), np.int16), 7, 0.0, -20.0,
                         cranial_first=True)
    folder.mkdir(parents=True)
    for k, path in enumerate(sorted(paths, key=lambda p: float(
            pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]))):
        ds = pydicom.dcmread(path)
        ds.Rows = ds.Columns = SIZE
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 15, int(signed)
        ds.RescaleIntercept = intercepts[k]
        ds.RescaleSlope = 1 if slopes is None else slopes[k]
        ds.PixelData = stored[k].astype(np.int16 if signed else np.uint16).tobytes()
        ds.save_as(folder / path.name, enforce_file_format=True)
    return folder


def _expected(folder: Path) -> np.ndarray:
    """pydicom's pixels × slope + intercept, in float64, slices by position."""
    datasets = sorted((pydicom.dcmread(f) for f in folder.iterdir()),
                      key=lambda d: float(d.ImagePositionPatient[2]))
    return np.stack([d.pixel_array.astype(np.float64) * float(d.RescaleSlope)
                     + float(d.RescaleIntercept) for d in datasets])


rng = np.random.default_rng(3)
CT = rng.integers(0, 3000, size=(N, SIZE, SIZE))
CASES = {
    # name: (stored, signed, intercepts, slopes, dtype of the volume)
    "uint16 - 1024": (CT, False, [-1024] * N, None, np.int16),
    "int16 - 1024": (CT - 1024, True, [-1024] * N, None, np.int16),
    "int16 + 0": (CT - 1024, True, [0] * N, None, np.int16),
    "uint16 to 60000 - 32768 (wraps right)": (CT * 20, False, [-32768] * N, None, np.int16),
    "uint16 over 32767 + 0": (CT * 20, False, [0] * N, None, np.float32),
    "one int16 slice below range after - 1024": (
        np.where(np.arange(N)[:, None, None] == 4, -32000, CT - 1024), True, [-1024] * N, None,
        np.float32),
    "uint16 one slice above range after + 1000": (
        np.where(np.arange(N)[:, None, None] == 0, 32000, CT), False, [1000] * N, None,
        np.float32),
    "intercepts differ": (CT, False, [-1024] * 3 + [-1000] * 3, None, np.float32),
    "fractional intercept": (CT, False, [-1024.5] * N, None, np.float32),
    "slope 2": (CT, False, [-1024] * N, [2] * N, np.float32),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("threads", [1, 2, 4])
def test_every_rescale_case_is_pydicoms_values(tmp_path, monkeypatch, case, threads):
    stored, signed, intercepts, slopes, dtype = CASES[case]
    folder = _series(tmp_path / "s", stored, signed, intercepts, slopes)
    (info,) = scan_dicom(folder).series
    monkeypatch.setattr(dicom_load, "READ_THREADS", threads)
    progress: list[tuple[int, int]] = []
    volume = load_series(info, progress=lambda done, total: progress.append((done, total)))
    assert volume.array.dtype == dtype
    assert np.array_equal(volume.array.astype(np.float64), _expected(folder))
    assert progress[-1] == (N, N)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)


def test_a_short_file_names_itself_on_every_thread_count(tmp_path, monkeypatch):
    folder = _series(tmp_path / "s", CT, False, [-1024] * N)
    (info,) = scan_dicom(folder).series
    victim = info.slices[3].path
    victim.write_bytes(victim.read_bytes()[:-100])
    for threads in (1, 2):
        monkeypatch.setattr(dicom_load, "READ_THREADS", threads)
        with pytest.raises(dicom_load.DicomInputError,
                           match=rf"{victim}: truncated pixel data \(3100 of 3200 bytes\)"):
            load_series(info)
