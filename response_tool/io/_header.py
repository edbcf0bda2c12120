"""Reading the few header fields the loader needs, fast.

Scanning a patient folder reads thousands of headers, and pydicom's general parser with its lazy
value conversion costs about 1 ms per file. For the common case — Part 10 files in explicit VR
little endian, defined-length elements before PixelData — this module walks the elements itself,
keeps only :data:`KEYWORDS`, and records where PixelData starts (so the pixels can later be read
straight into the volume). It reads explicit and implicit VR little endian — implicit VR, the
commonest PACS export, takes each element's VR from the data dictionary — and steps over
sequences of defined or undefined length (items and delimiters). Anything else (big endian,
deflate, a file that ends early, a malformed sequence) falls back to pydicom, which yields the
same :class:`Header` or says what is wrong.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.multival import MultiValue
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

#: Header fields read while scanning (everything else is skipped).
KEYWORDS = (
    "SOPClassUID", "Modality", "ImageType", "PatientID", "StudyInstanceUID", "SeriesInstanceUID",
    "StudyDate", "SeriesDate", "StudyDescription", "SeriesDescription", "ProtocolName",
    "SeriesNumber", "AcquisitionNumber", "InstanceNumber", "AcquisitionTime", "SeriesTime",
    "ContentTime", "ContrastBolusAgent", "ContrastBolusStartTime", "SliceThickness",
    "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "Rows", "Columns",
    "BitsAllocated", "PixelRepresentation", "RescaleSlope", "RescaleIntercept",
    "DirectoryRecordSequence", "SamplesPerPixel", "NumberOfFrames",
)
_FLOAT_LISTS = {"ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"}
_FLOATS = {"RescaleSlope", "RescaleIntercept", "SliceThickness"}
_INTS = {"SeriesNumber", "AcquisitionNumber", "InstanceNumber", "Rows", "Columns",
         "BitsAllocated", "PixelRepresentation", "SamplesPerPixel", "NumberOfFrames"}
_STRING_LISTS = {"ImageType"}
_TAGS = {int(tag_for_keyword(k)): k for k in KEYWORDS}  # type: ignore[arg-type]
#: implicit VR: the dictionary's VR of each keyword read (binary ones are decoded by VR)
_IMPLICIT_VR = {t: dictionary_VR(t).split(" or ")[0].encode() for t in _TAGS}
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_PIXEL_DATA = 0x7FE00010
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT",
             b"UV"}
_UNCOMPRESSED_LE = {str(ExplicitVRLittleEndian), str(ImplicitVRLittleEndian)}
_CHUNK = 16384


@dataclass(frozen=True, slots=True)
class Header:
    """The loader's view of one file: plain Python values of :data:`KEYWORDS`."""

    path: Path
    values: dict[str, Any]
    transfer_syntax_uid: str
    media_sop_class_uid: str
    pixel_offset: int | None  # byte offset of uncompressed little-endian pixel data
    pixel_length: int | None

    def get(self, keyword: str, default: Any = None) -> Any:
        value = self.values.get(keyword)
        return default if value is None or value == "" else value

    def __contains__(self, keyword: str) -> bool:
        return self.get(keyword) is not None


def _convert(keyword: str, value: Any) -> Any:
    """pydicom value or stripped text → plain Python value for ``keyword``."""
    if value is None:
        return None
    if keyword == "DirectoryRecordSequence":
        return True
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        text = value.strip(" \x00")
        parts = text.split("\\") if "\\" in text else [text]
    elif isinstance(value, (list, tuple, MultiValue)):
        parts = list(value)
        text = "\\".join(str(p) for p in parts)
    else:
        parts, text = [value], str(value)
    try:
        if keyword in _FLOAT_LISTS:
            return tuple(float(p) for p in parts)
        if keyword in _FLOATS:
            return float(parts[0]) if str(parts[0]).strip() else None
        if keyword in _INTS:
            return int(float(parts[0])) if str(parts[0]).strip() else None
    except (TypeError, ValueError):
        return None
    if keyword in _STRING_LISTS:
        return tuple(str(p).strip().upper() for p in parts)
    return text.strip()


def _binary(vr: bytes, raw: bytes) -> Any:
    if vr == b"US" and len(raw) >= 2:
        return struct.unpack_from("<H", raw)[0]
    if vr == b"SS" and len(raw) >= 2:
        return struct.unpack_from("<h", raw)[0]
    if vr == b"UL" and len(raw) >= 4:
        return struct.unpack_from("<I", raw)[0]
    return raw


class _Fallback(Exception):
    """The fast walker met something it leaves to pydicom."""


class _Reader:
    """A forward-only window on a file: ``data[pos:]`` starts at file offset ``base + pos``."""

    def __init__(self, fh: Any) -> None:
        self.fh, self.base, self.pos = fh, 0, 0
        self.data = fh.read(_CHUNK)
        self.implicit = False

    def need(self, n: int) -> None:
        while self.pos + n > len(self.data):
            more = self.fh.read(max(_CHUNK, self.pos + n - len(self.data)))
            if not more:
                raise _Fallback  # the file ends early: let pydicom explain
            self.data += more

    def skip(self, n: int) -> None:
        self.pos += n
        if self.pos > len(self.data):  # jump over a long value without reading it
            self.base += self.pos
            self.fh.seek(self.base)
            self.data, self.pos = self.fh.read(_CHUNK), 0

    def element(self) -> tuple[int, bytes, int, int]:
        """(tag, VR, value length, header length) of the element at ``pos``."""
        self.need(8)
        d, p = self.data, self.pos
        group, elem = struct.unpack_from("<HH", d, p)
        tag = (group << 16) | elem
        if self.implicit or group == 0xFFFE:  # implicit VR, items and delimiters: tag + length
            return tag, _IMPLICIT_VR.get(tag, b"UN"), struct.unpack_from("<I", d, p + 4)[0], 8
        self.need(12)
        d = self.data
        vr = d[p + 4:p + 6]
        if vr in _LONG_VRS:
            return (group << 16) | elem, vr, struct.unpack_from("<I", d, p + 8)[0], 12
        return (group << 16) | elem, vr, struct.unpack_from("<H", d, p + 6)[0], 8

    def value(self, head: int, length: int) -> bytes:
        self.need(head + length)
        return self.data[self.pos + head:self.pos + head + length]

    def skip_sequence(self, depth: int = 0) -> None:
        """Step over the items of an undefined-length sequence (after its header) and its
        delimiter; nested sequences of undefined length too."""
        if depth > 16:
            raise _Fallback
        while True:
            tag, _, length, head = self.element()
            if tag == _SEQUENCE_END:
                self.skip(head)
                return
            if tag != _ITEM:
                raise _Fallback
            if length != _UNDEFINED:
                self.skip(head + length)
                continue
            self.skip(head)
            while True:  # the item's elements until its delimiter
                tag, _, length, head = self.element()
                if tag == _ITEM_END:
                    self.skip(head)
                    break
                if length == _UNDEFINED:
                    self.skip(head)
                    self.skip_sequence(depth + 1)
                else:
                    self.skip(head + length)


def _fast(path: Path) -> Header:
    with open(path, "rb") as fh:
        r = _Reader(fh)
        if len(r.data) < 132 or r.data[128:132] != b"DICM":
            raise _Fallback
        r.pos = 132
        meta: dict[int, bytes] = {}
        while True:  # file meta group 0002: always explicit VR little endian
            tag, vr, length, head = r.element()
            if tag >> 16 != 0x0002:
                break
            meta[tag & 0xFFFF] = r.value(head, length)
            r.skip(head + length)
        ts = meta.get(0x0010, b"").decode("ascii", "replace").strip(" \x00")
        if ts not in _UNCOMPRESSED_LE:
            raise _Fallback
        r.implicit = ts == str(ImplicitVRLittleEndian)
        values: dict[str, Any] = {}
        while True:
            tag, vr, length, head = r.element()
            if tag == _PIXEL_DATA:
                if length == _UNDEFINED:  # encapsulated: not for this path
                    raise _Fallback
                offset, length_px = r.base + r.pos + head, length
                break
            if tag > _PIXEL_DATA:
                raise _Fallback
            keyword = _TAGS.get(tag)
            if length == _UNDEFINED:  # a sequence (or an undefined-length UN)
                if keyword is not None:
                    values[keyword] = _convert(keyword, b"sequence")
                r.skip(head)
                r.skip_sequence()
                continue
            if keyword is not None:
                values[keyword] = _convert(keyword, _binary(vr, r.value(head, length)))
            r.skip(head + length)
    sop = meta.get(0x0002, b"").decode("ascii", "replace").strip(" \x00")
    return Header(path, values, ts, sop, offset, length_px)


def _pixel_location(ds: pydicom.Dataset, fh: Any) -> tuple[int | None, int | None]:
    if str(ds.file_meta.get("TransferSyntaxUID", "")) not in _UNCOMPRESSED_LE:
        return None, None
    start = fh.tell()
    head = fh.read(12)
    if len(head) < 8 or head[:4] != b"\xe0\x7f\x10\x00":
        return None, None
    if ds.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian:
        return start + 8, int.from_bytes(head[4:8], "little")
    return start + 12, int.from_bytes(head[8:12], "little")


def _slow(path: Path) -> Header:
    with open(path, "rb") as fh:
        ds = pydicom.dcmread(fh, stop_before_pixels=True)
        offset, length = _pixel_location(ds, fh)
    values = {k: _convert(k, ds.get(k)) for k in KEYWORDS if k in ds}
    return Header(path, values, str(ds.file_meta.get("TransferSyntaxUID", "")),
                  str(ds.file_meta.get("MediaStorageSOPClassUID", "")), offset, length)


def read_header(path: Path) -> Header:
    """The loader's header of ``path``; raises pydicom's ``InvalidDicomError`` for non-DICOM."""
    try:
        return _fast(path)
    except (_Fallback, struct.error):
        return _slow(path)
