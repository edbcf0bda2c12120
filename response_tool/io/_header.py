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

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.multival import MultiValue
from pydicom.uid import AllTransferSyntaxes, ExplicitVRLittleEndian, ImplicitVRLittleEndian

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
_IMPLICIT = str(ImplicitVRLittleEndian)
#: what the walker reads: uncompressed little endian, and the encapsulated (compressed) syntaxes,
#: whose data sets are explicit VR little endian (not deflate: the data set itself is deflated)
_FAST_SYNTAXES = frozenset(_UNCOMPRESSED_LE | {
    str(u) for u in AllTransferSyntaxes if u.is_encapsulated and not u.is_deflated})
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


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip(" \x00")


def _float_list(vr: bytes, raw: bytes) -> Any:
    if vr in _BINARY_VRS:
        return _convert_binary("ImagePositionPatient", vr, raw)
    try:
        return tuple(float(p) for p in _text(raw).split("\\"))
    except ValueError:
        return None


def _float(vr: bytes, raw: bytes) -> Any:
    if vr in _BINARY_VRS:
        return _convert_binary("RescaleSlope", vr, raw)
    first = _text(raw).split("\\", 1)[0]
    try:
        return float(first) if first.strip() else None
    except ValueError:
        return None


def _int(vr: bytes, raw: bytes) -> Any:
    if vr == b"US" and len(raw) >= 2:
        return raw[0] | (raw[1] << 8)
    if vr in _BINARY_VRS:
        return _convert_binary("Rows", vr, raw)
    first = _text(raw).split("\\", 1)[0]
    try:
        return int(float(first)) if first.strip() else None
    except ValueError:
        return None


def _string_list(vr: bytes, raw: bytes) -> Any:
    if vr in _BINARY_VRS:
        return _convert_binary("ImageType", vr, raw)
    return tuple(p.strip().upper() for p in _text(raw).split("\\"))


def _plain(vr: bytes, raw: bytes) -> Any:
    if vr in _BINARY_VRS:
        return _convert_binary("Modality", vr, raw)
    return _text(raw).strip()


def _convert_binary(keyword: str, vr: bytes, raw: bytes) -> Any:
    return _convert(keyword, _binary(vr, raw))


_BINARY_VRS = frozenset({b"US", b"SS", b"UL"})


def _converter(keyword: str) -> Any:
    """``f(vr, raw)`` = ``_convert(keyword, _binary(vr, raw))``, without its generic dispatch
    (a test checks they agree on every value of the real files)."""
    if keyword == "DirectoryRecordSequence":
        return lambda vr, raw: True
    if keyword in _FLOAT_LISTS:
        return _float_list
    if keyword in _FLOATS:
        return _float
    if keyword in _INTS:
        return _int
    if keyword in _STRING_LISTS:
        return _string_list
    return _plain


#: tag → (keyword, converter) of :data:`KEYWORDS`
_CONVERTERS = {tag: (keyword, _converter(keyword)) for tag, keyword in _TAGS.items()}


class _Fallback(Exception):
    """The fast walker met something it leaves to pydicom."""


_ELEMENT = struct.Struct("<HH2sH").unpack_from  # group, element, VR, short length
_IMPLICIT_ELEMENT = struct.Struct("<HHI").unpack_from  # group, element, length
_U32 = struct.Struct("<I").unpack_from
_MAX_DEPTH = 16


def _refill(fd: int | None, base: int, pos: int, need: int) -> bytes:
    """``need`` bytes (or more) from file offset ``base + pos``; the walker met the end of its
    buffer. No file (a buffer walked alone) or a file that ends early: leave it to pydicom."""
    if fd is None:
        raise _Fallback
    data = os.pread(fd, max(_CHUNK, need), base + pos)
    if len(data) < need:
        raise _Fallback  # the file ends early: let pydicom explain
    return data


@dataclass(slots=True)
class Walk:
    """What :func:`walk` found: the file meta elements (group 0002, element number → raw value),
    the wanted top-level elements (tag → (VR, raw value)), and where PixelData is — the file
    offset of its value and its length (``None``: undefined, i.e. encapsulated fragments)."""

    meta: dict[int, bytes]
    raw: dict[int, tuple[bytes, bytes]]
    pixel_offset: int
    pixel_length: int | None

    @property
    def transfer_syntax_uid(self) -> str:
        return self.meta.get(0x0010, b"").decode("ascii", "replace").strip(" \x00")


def _skip_undefined(data: bytes, fd: int | None, base: int, pos: int, implicit: bool
                    ) -> tuple[bytes, int, int]:
    """Step over the items of an undefined-length sequence (``pos``: after its header) and its
    delimiter, nested ones too; the buffer, its file offset and the position after it."""
    element, u32, long_vrs = _ELEMENT, _U32, _LONG_VRS
    n = len(data)
    stack = [True]  # open undefined-length containers: True = sequence, False = item
    while stack:
        if pos + 12 > n:
            data = _refill(fd, base, pos, 12)
            base, pos, n = base + pos, 0, len(data)
        group, elem, vr, length = element(data, pos)
        if group == 0xFFFE:  # items and delimiters: tag + length
            tag = (group << 16) | elem
            length = u32(data, pos + 4)[0]
            if tag == _ITEM and stack[-1]:
                if length == _UNDEFINED:
                    if len(stack) > _MAX_DEPTH:
                        raise _Fallback
                    stack.append(False)
                    pos += 8
                    continue
                head = 8
            elif tag == _ITEM_END and not stack[-1] or tag == _SEQUENCE_END and stack[-1]:
                stack.pop()
                pos += 8
                continue
            else:
                raise _Fallback  # a malformed sequence
        else:
            if stack[-1]:
                raise _Fallback  # a sequence holds items only
            if implicit:
                length, head = u32(data, pos + 4)[0], 8
            elif vr in long_vrs:
                length, head = u32(data, pos + 8)[0], 12
            else:
                head = 8
            if length == _UNDEFINED:
                if len(stack) > _MAX_DEPTH:
                    raise _Fallback
                stack.append(True)
                pos += head
                continue
        pos += head + length
        if pos > n:
            data = _refill(fd, base, pos, 12)
            base, pos, n = base + pos, 0, len(data)
    return data, base, pos


def walk(data: bytes, fd: int | None, wanted: dict[int, Any], accept: frozenset[str]) -> Walk:
    """Walk a Part 10 file from its preamble to PixelData in one pass over ``data`` (its first
    bytes; more are read from ``fd`` by offset when the walk runs past them, and long values
    are jumped over without reading them). Keeps the raw values of the top-level ``wanted``
    tags. Raises :class:`_Fallback` for anything it leaves to pydicom: a transfer syntax not
    in ``accept``, an early end, a malformed sequence, no PixelData."""
    if len(data) < 144 or data[128:132] != b"DICM":
        raise _Fallback
    element, u32, long_vrs = _ELEMENT, _U32, _LONG_VRS
    base, pos, n = 0, 132, len(data)
    meta: dict[int, bytes] = {}
    while True:  # file meta group 0002: always explicit VR little endian
        if pos + 12 > n:
            raise _Fallback
        group, elem, vr, length = element(data, pos)
        if group != 0x0002:
            break
        if vr in long_vrs:
            length, head = u32(data, pos + 8)[0], 12
        else:
            head = 8
        meta[elem] = data[pos + head:pos + head + length]
        pos += head + length
    ts = meta.get(0x0010, b"").decode("ascii", "replace").strip(" \x00")
    if ts not in accept:
        raise _Fallback
    implicit = ts == _IMPLICIT
    implicit_vr = _IMPLICIT_VR
    pixel_data, undefined = _PIXEL_DATA, _UNDEFINED
    raw: dict[int, tuple[bytes, bytes]] = {}
    # the data set's top level: the hot loop, one element per turn (implicit and explicit VR
    # apart, so that a turn decides nothing it need not)
    while True:
        if pos + 12 > n:
            data = _refill(fd, base, pos, 12)
            base, pos, n = base + pos, 0, len(data)
        if implicit:
            group, elem, length = _IMPLICIT_ELEMENT(data, pos)
            head = 8
        else:
            group, elem, vr, length = element(data, pos)
            if vr in long_vrs:
                length, head = u32(data, pos + 8)[0], 12
            else:
                head = 8
        tag = (group << 16) | elem
        if tag >= pixel_data or length == undefined:  # items (FFFE,…) sort after PixelData
            if tag == pixel_data:
                return Walk(meta, raw, base + pos + head,
                            None if length == undefined else length)
            if tag > pixel_data:
                raise _Fallback  # past the pixels, or an item outside a sequence
            if tag in wanted:  # a sequence (or an undefined-length UN)
                raw[tag] = (b"SQ", b"sequence")
            data, base, pos = _skip_undefined(data, fd, base, pos + head, implicit)
            n = len(data)
            continue
        if tag in wanted:
            end = pos + head + length
            if end > n:
                data = _refill(fd, base, pos, head + length)
                base, pos, n = base + pos, 0, len(data)
                end = head + length
            raw[tag] = (implicit_vr.get(tag, b"UN") if implicit else vr, data[end - length:end])
            pos = end
        else:
            pos += head + length
        if pos > n:  # jump over a long value without reading it
            data = _refill(fd, base, pos, 12)
            base, pos, n = base + pos, 0, len(data)


def _fast(path: Path) -> Header:
    with open(path, "rb", buffering=0) as fh:
        w = walk(fh.read(_CHUNK), fh.fileno(), _TAGS, _FAST_SYNTAXES)
    ts = w.transfer_syntax_uid
    values: dict[str, Any] = {}
    converters = _CONVERTERS
    for tag, (vr, value) in w.raw.items():
        keyword, convert = converters[tag]
        values[keyword] = convert(vr, value)
    sop = w.meta.get(0x0002, b"").decode("ascii", "replace").strip(" \x00")
    if ts not in _UNCOMPRESSED_LE or w.pixel_length is None:
        return Header(path, values, ts, sop, None, None)  # pixels for a decoder, as pydicom
    return Header(path, values, ts, sop, w.pixel_offset, w.pixel_length)


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
