"""The fast header walker (issue 17): explicit and implicit VR little endian, sequences of defined
and undefined length — every value, and the pixel data's place, as pydicom reads them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from response_tool.io import _header
from response_tool.io.dicom import scan_dicom
from response_tool.io.dicom_load import load_series


def _real_files(shared_data: Path) -> list[Path]:
    out = []
    for f in sorted(shared_data.rglob("*")):
        if f.is_file() and f.stat().st_size > 132:
            with open(f, "rb") as fh:
                fh.seek(128)
                if fh.read(4) == b"DICM":
                    out.append(f)
    return out


def _same(path: Path) -> _header.Header:
    fast, slow = _header._fast(path), _header._slow(path)
    assert fast.values == slow.values, path
    assert (fast.pixel_offset, fast.pixel_length, fast.transfer_syntax_uid) == (
        slow.pixel_offset, slow.pixel_length, slow.transfer_syntax_uid), path
    return fast


def test_every_uncompressed_real_file_is_read_as_pydicom_reads_it(shared_data):
    files = _real_files(shared_data)
    checked = 0
    for f in files:
        ts = str(pydicom.dcmread(f, stop_before_pixels=True).file_meta.TransferSyntaxUID)
        if ts in (ExplicitVRLittleEndian, ImplicitVRLittleEndian):
            _same(f)
            checked += 1
    assert checked >= 100  # the TCIA slices, dcmqi, TotalSegmentator, DeepLesion headers


def _rewritten(src: Path, dst: Path, implicit: bool, undefined: bool) -> Path:
    ds = pydicom.dcmread(src)
    if undefined:  # every sequence and item of undefined length, as many PACS write them
        for elem in ds.iterall():
            if elem.VR == "SQ":
                elem.is_undefined_length = True
                for item in elem.value:
                    item.is_undefined_length_sequence_item = True
        # and one more nested sequence before the pixel data, for sure
        inner = pydicom.Dataset()
        inner.CodeValue, inner.CodingSchemeDesignator, inner.CodeMeaning = "T-62000", "SRT", "Liver"
        outer = pydicom.Dataset()
        outer.AnatomicRegionSequence = [inner]
        ds.ReferencedImageSequence = [outer, pydicom.Dataset()]
        ds.ReferencedImageSequence.is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    ds.save_as(dst, implicit_vr=implicit, little_endian=True, enforce_file_format=True)
    return dst


@pytest.mark.parametrize("implicit", [True, False], ids=["implicit", "explicit"])
@pytest.mark.parametrize("undefined", [True, False], ids=["undefined-length-sq", "defined-sq"])
def test_real_headers_rewritten_in_each_encoding_are_walked_without_pydicom(
        shared_data, tmp_path, implicit, undefined, monkeypatch):
    sources = [f for f in _real_files(shared_data / "tcia-hcc-tace-seg-first-slices")][:40]
    assert sources
    for i, src in enumerate(sources):
        if pydicom.dcmread(src, stop_before_pixels=True).file_meta.TransferSyntaxUID.is_compressed:
            continue
        out = _rewritten(src, tmp_path / f"{i}.dcm", implicit, undefined)
        header = _same(out)  # _fast did not fall back: it returned
        assert header.transfer_syntax_uid == (ImplicitVRLittleEndian if implicit
                                              else ExplicitVRLittleEndian)


def test_an_implicit_vr_series_loads_the_same_pixels(phantom_dir, tmp_path):
    """The phantom's baseline portal-venous series rewritten in implicit VR: scanned by the
    walker (pydicom is never asked for a header) and loaded to the same volume."""
    import json

    truth = json.loads((phantom_dir / "ground_truth.json").read_text())
    folder = phantom_dir / truth["timepoints"][0]["series"]["portal-venous"]["folder"]
    out = tmp_path / "implicit"
    out.mkdir()
    for f in sorted(folder.iterdir()):
        _rewritten(f, out / f.name, implicit=True, undefined=True)
    calls = []
    original = _header._slow
    try:
        _header._slow = lambda p: calls.append(p) or original(p)  # type: ignore[assignment]
        implicit = load_series(scan_dicom(out).series[0])
    finally:
        _header._slow = original  # type: ignore[assignment]
    assert calls == []
    explicit = load_series(scan_dicom(folder).series[0])
    assert np.array_equal(implicit.array, explicit.array)
    assert implicit.spacing_zyx_mm == explicit.spacing_zyx_mm


def test_a_truncated_sequence_falls_back_to_pydicom_and_its_message(tmp_path, shared_data):
    src = next(f for f in _real_files(shared_data / "tcia-hcc-tace-seg-first-slices")
               if not pydicom.dcmread(f, stop_before_pixels=True).file_meta.TransferSyntaxUID.is_compressed)
    full = _rewritten(src, tmp_path / "full.dcm", implicit=True, undefined=True).read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(full[:1200])  # inside the header
    with pytest.raises(_header._Fallback):
        _header._fast(cut)


def test_compressed_real_files_are_walked_too_and_read_as_pydicom_reads_them(shared_data):
    """JPEG 2000 data sets are explicit VR little endian: the walker reads them (no pydicom),
    with no pixel offset (the pixels are for a decoder), as the pydicom path says."""
    files = [f for f in _real_files(shared_data) if pydicom.dcmread(
        f, stop_before_pixels=True).file_meta.TransferSyntaxUID.is_compressed]
    assert len(files) >= 20  # the TotalSegmentator series
    for f in files:
        header = _same(f)
        assert header.pixel_offset is None and header.pixel_length is None


@pytest.mark.parametrize("syntax", ["RLELossless", "JPEGLSLossless", "DeflatedExplicitVRLittleEndian"])
def test_a_rewritten_real_header_in_other_syntaxes(shared_data, tmp_path, syntax):
    import pydicom.uid

    src = _real_files(shared_data / "tcia-hcc-tace-seg-first-slices")[0]
    ds = pydicom.dcmread(src)
    ts = getattr(pydicom.uid, syntax)
    out = tmp_path / "x.dcm"
    if ts.is_deflated:
        ds.file_meta.TransferSyntaxUID = ts
        ds.save_as(out, enforce_file_format=True)
        with pytest.raises(_header._Fallback):  # deflate: the data set itself is compressed
            _header._fast(out)
        return
    ds.compress(ts)
    ds.save_as(out, enforce_file_format=True)
    _same(out)


def test_the_fast_converters_give_what_the_generic_one_gives(shared_data):
    """Every wanted value of every real file (and of odd ones: empty, not a number, a binary
    VR where text was expected), through the per-keyword converter and the generic one."""
    checked = 0
    for f in _real_files(shared_data):
        with open(f, "rb") as fh:
            try:
                w = _header.walk(fh.read(), None, _header._TAGS, _header._FAST_SYNTAXES)
            except _header._Fallback:
                continue
        for tag, (vr, raw) in w.raw.items():
            keyword, convert = _header._CONVERTERS[tag]
            assert convert(vr, raw) == _header._convert(keyword, _header._binary(vr, raw)), (f, tag)
            checked += 1
    assert checked > 2000
    odd = [(b"DS", b""), (b"DS", b"abc"), (b"DS", b"1.5\\2"), (b"IS", b" 12 "), (b"US", b"\x01\x02"),
           (b"US", b"\x01"), (b"SS", b"\xff\xff"), (b"UL", b"\x01\x00\x00\x00"), (b"CS", b"a\\b "),
           (b"UN", b"1\\2\\3\x00"), (b"DS", b"1e400"), (b"IS", b"nan")]
    for keyword, convert in _header._CONVERTERS.values():
        for vr, raw in odd:
            try:
                expected = _header._convert(keyword, _header._binary(vr, raw))
            except Exception as exc:  # the generic one raises: so must the fast one
                with pytest.raises(type(exc)):
                    convert(vr, raw)
                continue
            assert repr(convert(vr, raw)) == repr(expected), (keyword, vr, raw)  # NaN too
