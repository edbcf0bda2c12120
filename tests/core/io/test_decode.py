"""Compressed slices decoded on every core (issue 17): imagecodecs on a thread pool gives pydicom's
pixels for every transfer syntax it takes (J2K lossless and lossy, JPEG-LS lossless and
near-lossless, RLE; unsigned and signed; BitsStored 16 and 12, high bits set), on real
compressed files, and falls back to pydicom — with a warning when imagecodecs is missing; a
script without a ``__main__`` guard loads a compressed series."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import (
    JPEG2000,
    JPEG2000Lossless,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from response_tool.domain.errors import DicomInputError
from response_tool.io import _decode, dicom_load, load_series, scan_dicom
from response_tool.phantom.writer import SeriesHeader, uid, write_series

pytest.importorskip("imagecodecs")

SYNTAXES = {"j2k-lossless": (JPEG2000Lossless, {}), "j2k-lossy": (JPEG2000, {"j2k_cr": [20]}),
            "jpegls-lossless": (JPEGLSLossless, {}),
            "jpegls-near": (JPEGLSNearLossless, {"jls_error": 2}), "rle": (RLELossless, {})}
N, SIZE = 5, 48


def _series(folder: Path, syntax: str, signed: bool, bits_stored: int, seed: int = 0) -> Path:
    """N slices of SIZE² CT-like values written by the phantom writer, then made signed (HU
    stored, intercept 0) or not, given ``bits_stored`` and compressed with ``syntax``."""
    rng = np.random.default_rng(seed)
    hu = rng.normal(0, 400, size=(N, SIZE, SIZE)).clip(-1024, 2000).astype(np.int16)
    header = SeriesHeader(uid(seed, "study"), uid(seed, syntax), uid(seed, "frame"),
                          dt.date(2026, 1, 1), "1", "DECODE", 2, syntax, "t", "rt", "t",
                          dt.time(9), False)
    plain = folder.parent / f"{folder.name}-plain"
    paths = write_series(plain, header, np.zeros((N, 512, 512), np.int16), seed, 0.0, -20.0,
                         cranial_first=True)
    folder.mkdir(parents=True)
    ts, options = SYNTAXES[syntax]
    for k, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        ds.Rows = ds.Columns = SIZE
        ds.BitsStored, ds.HighBit = bits_stored, bits_stored - 1
        if signed:
            ds.PixelRepresentation, ds.RescaleIntercept = 1, 0
            values = hu[k] if bits_stored == 16 else hu[k] // 2
            ds.PixelData = values.astype(np.int16).tobytes()
        else:
            values = (hu[k].astype(np.int32) + 1024).astype(np.uint16)
            ds.PixelData = values.tobytes()
        ds.compress(ts, **options)
        ds.save_as(folder / path.name, enforce_file_format=True)
    return folder


def _pydicom_stack(info) -> np.ndarray:
    return np.stack([pydicom.dcmread(s.path).pixel_array for s in info.slices])


def _decode_all(info, threads: int) -> tuple[np.ndarray, int]:
    out = np.empty((info.n_slices, info.rows, info.columns), dicom_load._stored_dtype(info))
    fast = _decode.decode_series(info, out, None, threads, dicom_load._read_slice).decoded
    return out, fast


@pytest.mark.parametrize("syntax", sorted(SYNTAXES))
@pytest.mark.parametrize(("signed", "bits_stored"), [(False, 16), (False, 12), (True, 16),
                                                     (True, 12)],
                         ids=["u16", "u12", "s16", "s12"])
def test_every_syntax_decodes_to_pydicoms_pixels(tmp_path, syntax, signed, bits_stored):
    folder = _series(tmp_path / "series", syntax, signed, bits_stored)
    (info,) = scan_dicom(folder).series
    expected = _pydicom_stack(info)
    out, fast = _decode_all(info, threads=2)
    assert out.dtype == expected.dtype
    assert np.array_equal(out, expected)
    assert fast == N  # imagecodecs decoded every slice: pydicom was not needed
    one, _ = _decode_all(info, threads=1)
    assert np.array_equal(one, out)


@pytest.mark.parametrize(("intercept", "dtype"), [(-1024, np.int16), (31500, np.float32)],
                         ids=["int16", "one-slice-out-of-int16"])
def test_the_volume_is_the_rescaled_pydicom_stack(tmp_path, intercept, dtype):
    """Compressed slices are rescaled while in the cache too: int16 when lossless; when one
    slice leaves int16 the others are put back and the volume is float32."""
    folder = _series(tmp_path / "series", "rle", signed=False, bits_stored=12)
    for f in folder.iterdir():
        ds = pydicom.dcmread(f)
        ds.RescaleIntercept = intercept
        ds.save_as(f, enforce_file_format=True)
    (info,) = scan_dicom(folder).series
    volume = load_series(info)
    expected = _pydicom_stack(info).astype(np.float64) + intercept
    assert expected.max() > 32767 if dtype == np.float32 else expected.max() <= 32767
    assert volume.array.dtype == dtype
    assert np.array_equal(volume.array.astype(np.float64), expected)


def test_high_bits_above_bits_stored_are_masked_or_sign_extended_as_pydicom_does(tmp_path):
    src = _series(tmp_path / "series", "rle", signed=False, bits_stored=16)
    for signed, raw in ((False, [0xF123, 5, 4095, 0x1000]), (True, [0x0FFB, 5, 0x0800, 0x07FF])):
        folder = tmp_path / f"high-bits-{signed}"
        folder.mkdir()
        for f in sorted(src.iterdir()):
            ds = pydicom.dcmread(f)
            ds.decompress()
            ds.PixelRepresentation = int(signed)
            ds.BitsStored, ds.HighBit = 12, 11
            values = np.resize(np.array(raw, np.uint16), (SIZE, SIZE))
            ds.PixelData = values.tobytes()
            ds.compress(RLELossless)
            ds.save_as(folder / f.name, enforce_file_format=True)
        (info,) = scan_dicom(folder).series
        out, fast = _decode_all(info, threads=2)
        expected = _pydicom_stack(info)
        assert fast == N and np.array_equal(out, expected)
        assert set(np.unique(out).tolist()) == ({291, 5, 4095, 0} if not signed
                                                else {-5, 5, -2048, 2047})


def test_real_jpeg2000_slices_decode_to_pydicoms_pixels(shared_data):
    folder = shared_data / "totalsegmentator-example-ct" / "example_ct_dicom"
    (info,) = scan_dicom(folder).series
    assert info.transfer_syntax_uid == str(JPEG2000Lossless)
    out, fast = _decode_all(info, threads=2)
    assert fast == info.n_slices == 20
    assert np.array_equal(out, _pydicom_stack(info))


def test_without_imagecodecs_pydicom_decodes_with_one_warning(tmp_path, monkeypatch):
    folder = _series(tmp_path / "series", "j2k-lossless", signed=True, bits_stored=16)
    (info,) = scan_dicom(folder).series
    monkeypatch.setattr(_decode, "_CODECS", {})
    monkeypatch.setattr(_decode, "_warned", False)
    with pytest.warns(RuntimeWarning, match="imagecodecs is not installed.*pip install imagecodecs"):
        out, fast = _decode_all(info, threads=2)
    assert fast == 0 and np.array_equal(out, _pydicom_stack(info))


def test_a_slice_imagecodecs_cannot_take_goes_to_pydicom(tmp_path, monkeypatch):
    """A codestream whose signedness is not the series' (decoded dtype differs): pydicom decodes
    that slice, the others stay on the fast path."""
    folder = _series(tmp_path / "series", "j2k-lossless", signed=False, bits_stored=16)
    (info,) = scan_dicom(folder).series
    real = _decode._CODECS[str(JPEG2000Lossless)]
    victim = info.slices[2].path

    def odd(frame, target, bits_stored, signed):
        arr = real(frame, target, bits_stored, signed)
        return arr.astype(np.int32) if bytes(frame) == bytes(_frame_of(victim)) else arr
    monkeypatch.setitem(_decode._CODECS, str(JPEG2000Lossless), odd)
    out, fast = _decode_all(info, threads=2)
    assert fast == N - 1 and np.array_equal(out, _pydicom_stack(info))


def _frame_of(path: Path) -> bytes | memoryview:
    data = path.read_bytes()
    w = _decode.walk(data, None, _decode._WANTED, _decode._ACCEPT)
    frame = _decode._frame(data, w.pixel_offset)
    assert frame is not None
    return frame


def test_a_damaged_codestream_names_the_file(tmp_path):
    folder = _series(tmp_path / "series", "j2k-lossless", signed=False, bits_stored=16)
    (info,) = scan_dicom(folder).series
    victim = info.slices[3].path
    data, frame = bytearray(victim.read_bytes()), _frame_of(victim)
    start = data.find(frame)
    data[start:start + len(frame)] = b"\x17" * len(frame)  # no codestream left
    victim.write_bytes(bytes(data))
    with pytest.raises(DicomInputError, match=rf"{victim}: cannot decode pixel data"):
        load_series(info)


def test_a_script_without_a_main_guard_loads_a_compressed_series(tmp_path):
    """Threads, not spawned processes: nothing re-imports the user's ``__main__`` (a script
    without an ``if __name__ == "__main__"`` guard ran again in every spawned worker)."""
    folder = _series(tmp_path / "series", "j2k-lossless", signed=False, bits_stored=16)
    script = tmp_path / "load_it.py"
    script.write_text(textwrap.dedent(f"""
        from response_tool.io import load_series, scan_dicom
        from response_tool.io import _decode
        print("script body ran")
        volume = load_series(scan_dicom({str(folder)!r}).series[0])
        print("shape", volume.array.shape, "sum", int(volume.array.astype("int64").sum()),
              "codecs", len(_decode._CODECS))
    """))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    (info,) = scan_dicom(folder).series
    expected = int((_pydicom_stack(info).astype(np.int64) - 1024).sum())
    assert run.stdout.count("script body ran") == 1
    assert f"shape ({N}, {SIZE}, {SIZE}) sum {expected} codecs" in run.stdout
    assert "codecs 0" not in run.stdout
