"""Compressed pixel data decoded on every core, into the preallocated volume.

pydicom's pixel handlers (the pylibjpeg plugins) hold the GIL while they decode, so threads gave
nothing and processes are not safe in a library (a ``spawn``ed worker re-imports the user's
``__main__``: a script without an ``if __name__ == "__main__"`` guard runs again in every
worker). imagecodecs' decoders release the GIL, so here each file is read once (header and
pixels from one buffer: :func:`._header.walk`), its fragments joined into the frame, and the frame
decoded by imagecodecs on a thread pool, straight into its slice of the volume.

Decoded here: JPEG 2000 (lossless and lossy), JPEG-LS (lossless and near-lossless), RLE Lossless —
:data:`DECODED_SYNTAXES`. Everything else, and every file these decoders might read differently
from pydicom, goes to the caller's ``fallback`` (pydicom, one file after another): a transfer
syntax not listed; a frame whose decoded dtype or size is not the series' (J2K codestreams whose
signedness differs from PixelRepresentation, which pydicom corrects); a file whose BitsAllocated
is not the series'; a header the walker leaves to pydicom. Where pydicom applies BitsStored <
BitsAllocated (RLE, JPEG-LS: the bits above masked off, or the sign extended over them) so does
this module.
Without imagecodecs installed every compressed slice goes to the fallback, with one warning
saying what to install. ``tests/core/io/test_decode.py`` checks the pixels are pydicom's.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np
from pydicom.uid import (
    JPEG2000,
    JPEG2000Lossless,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from response_tool.domain.errors import DicomInputError

from ._header import _CHUNK, _Fallback, walk
from .dicom_series import Progress, SeriesInfo

try:  # the fast decoders (docs/dependencies.md); without them pydicom decodes, one slice at a time
    import imagecodecs
except ImportError:  # pragma: no cover - exercised by monkeypatching _CODECS in the tests
    imagecodecs = None  # type: ignore[assignment]

Decoder = Callable[[Any, np.ndarray, 'int | None', bool], np.ndarray]
Fallback = Callable[[Any, np.ndarray], None]

_BITS_ALLOCATED, _BITS_STORED, _PIXEL_REPRESENTATION = 0x00280100, 0x00280101, 0x00280103
_WANTED = {_BITS_ALLOCATED: "BitsAllocated", _BITS_STORED: "BitsStored",
           _PIXEL_REPRESENTATION: "PixelRepresentation"}
_ACCEPT = frozenset(str(u) for u in (JPEG2000Lossless, JPEG2000, JPEGLSLossless,
                                     JPEGLSNearLossless, RLELossless))
_ITEM_HEAD = struct.Struct("<HHI").unpack_from
_warned = False


def _stored_bits(target: np.ndarray, bits_stored: int | None, signed: bool) -> None:
    """What pydicom does with BitsStored < BitsAllocated, in place: the bits above BitsStored
    masked off (unsigned) or the sign bit extended over them (signed)."""
    width = target.dtype.itemsize * 8
    if bits_stored is None or not 0 < bits_stored < width:
        return
    unsigned = target.view(f"<u{target.dtype.itemsize}")
    if signed:
        unsigned <<= width - bits_stored
        view = target.view(f"<i{target.dtype.itemsize}")
        view >>= width - bits_stored
    else:
        unsigned &= (1 << bits_stored) - 1


def _jpeg2k(frame: Any, target: np.ndarray, bits_stored: int | None, signed: bool
            ) -> np.ndarray:
    # no ``out=``: given one of the wrong signedness it writes into it silently (measured), and
    # the dtype check of the caller is what sends such a codestream to pydicom (which corrects
    # the sign); the codestream's own precision and sign are what pydicom decodes too
    return imagecodecs.jpeg2k_decode(frame)


def _jpegls(frame: Any, target: np.ndarray, bits_stored: int | None, signed: bool
            ) -> np.ndarray:
    """JPEG-LS holds unsigned samples: signed data is sign-extended from BitsStored, as pydicom
    does."""
    arr = imagecodecs.jpegls_decode(frame)
    if not signed or arr.dtype.kind != "u" or arr.dtype.itemsize != target.dtype.itemsize \
            or arr.size != target.size:
        return arr
    target.view(arr.dtype)[...] = arr.reshape(target.shape)
    _stored_bits(target, bits_stored, signed)
    return target


def _rle(frame: Any, target: np.ndarray, bits_stored: int | None, signed: bool
         ) -> np.ndarray:
    """Straight into the slice (RLE segments carry no dtype: the bytes are the stored values),
    then BitsStored applied as pydicom does."""
    flat = target.reshape(-1).view(np.uint8)
    out: Any = imagecodecs.dicomrle_decode(frame, target.dtype.str, out=flat)  # type: ignore[arg-type]
    if out.size != flat.size or not np.shares_memory(out, flat):
        raise ValueError(f"{out.size} bytes decoded for a {flat.size}-byte slice")
    _stored_bits(target, bits_stored, signed)
    return target


def _codecs() -> dict[str, Decoder]:
    """The transfer syntaxes imagecodecs decodes here (with its codecs built in)."""
    if imagecodecs is None:
        return {}
    out: dict[str, Decoder] = {}
    if getattr(imagecodecs, "JPEG2K", None) is not None and imagecodecs.JPEG2K.available:
        out.update({str(JPEG2000Lossless): _jpeg2k, str(JPEG2000): _jpeg2k})
    if getattr(imagecodecs, "JPEGLS", None) is not None and imagecodecs.JPEGLS.available:
        out.update({str(JPEGLSLossless): _jpegls, str(JPEGLSNearLossless): _jpegls})
    if getattr(imagecodecs, "DICOMRLE", None) is not None and imagecodecs.DICOMRLE.available:
        out[str(RLELossless)] = _rle
    return out


#: transfer syntax → the decoder used on the thread pool (empty without imagecodecs)
_CODECS: dict[str, Decoder] = _codecs()
#: what this module decodes when imagecodecs is installed
DECODED_SYNTAXES = tuple(sorted(_ACCEPT))


def _read_file(path: Any) -> bytes:
    """The whole file, in one read (it is decoded from memory)."""
    with open(path, "rb", buffering=0) as fh:
        size = os.fstat(fh.fileno()).st_size
        data = fh.read(max(size, _CHUNK))
        while len(data) < size:
            more = fh.read(size - len(data))
            if not more:
                break
            data += more
        return data


def _frame(data: bytes, pos: int) -> bytes | memoryview | None:
    """The one frame of encapsulated pixel data whose items start at ``pos``: the fragments after
    the Basic Offset Table, joined (as pydicom does for a single frame; one fragment is not
    copied); None when malformed."""
    fragments: list[memoryview] = []
    view = memoryview(data)
    first = True
    while pos + 8 <= len(data):
        group, elem, length = _ITEM_HEAD(data, pos)
        tag = (group << 16) | elem
        if tag == 0xFFFEE0DD:  # sequence delimiter
            if len(fragments) == 1:
                return fragments[0]
            return b"".join(fragments) if fragments else None
        if tag != 0xFFFEE000 or length == 0xFFFFFFFF or pos + 8 + length > len(data):
            return None
        if not first:
            fragments.append(view[pos + 8:pos + 8 + length])
        first = False
        pos += 8 + length
    return None


def _us(raw: dict[int, tuple[bytes, bytes]], tag: int) -> int | None:
    value = raw.get(tag)
    if value is None or len(value[1]) < 2:
        return None
    return int.from_bytes(value[1][:2], "little")


def _decode_slice(s: Any, target: np.ndarray, fallback: Fallback,
                  finish: Callable[[np.ndarray], Any] | None) -> tuple[bool, Any]:
    """One file into ``target``, then ``finish(target)`` while it is in the cache: (whether
    imagecodecs decoded it — else ``fallback`` did —, what ``finish`` returned)."""
    decoded = _decode_into(s, target, fallback)
    return decoded, None if finish is None else finish(target)


def _decode_into(s: Any, target: np.ndarray, fallback: Fallback) -> bool:
    try:
        data = _read_file(s.path)
    except PermissionError:
        fallback(s, target)  # says "permission denied" for this file
        return False
    except OSError as exc:
        raise DicomInputError(f"{s.path}: cannot be read ({exc.strerror or exc}); check the "
                              "disk, or re-export the series") from exc
    try:
        w = walk(data, None, _WANTED, _ACCEPT)
    except (_Fallback, struct.error):
        fallback(s, target)
        return False
    decoder = _CODECS.get(w.transfer_syntax_uid)
    bits, stored = _us(w.raw, _BITS_ALLOCATED), _us(w.raw, _BITS_STORED)
    signed = _us(w.raw, _PIXEL_REPRESENTATION) == 1
    if decoder is None or w.pixel_length is not None or bits != target.dtype.itemsize * 8:
        fallback(s, target)
        return False
    frame = _frame(data, w.pixel_offset)
    if frame is None:
        fallback(s, target)  # pydicom says what is wrong with the fragments
        return False
    try:
        arr = decoder(frame, target, stored, signed)
    except Exception:  # a codestream imagecodecs refuses: pydicom decodes it or says why
        fallback(s, target)
        return False
    if arr is target:
        return True
    if arr.dtype != target.dtype or arr.size != target.size:
        fallback(s, target)  # signedness or precision pydicom corrects: let it
        return False
    target[...] = arr.reshape(target.shape)
    return True


#: jobs handed to a pool thread at once: one future per slice costs more than a short job (an RLE
#: slice decodes in 0.3 ms) and the hand-offs of the GIL between the threads ate the gain
#: (2 threads: no faster than 1; in chunks: 1.75 × faster)
CHUNKS_PER_THREAD = 8


def _run_chunk(fn: Callable[..., Any], jobs: list[tuple[Any, ...]]) -> list[Any]:
    return [fn(*job) for job in jobs]


def in_order(pool: ThreadPoolExecutor | None, fn: Callable[..., Any], jobs: list[tuple[Any, ...]],
             progress: Progress | None, total: int, threads: int = 1) -> list[Any]:
    """``fn(*job)`` for every job, on ``pool`` (None: here, one after another) in contiguous
    chunks (:data:`CHUNKS_PER_THREAD` per thread); the results in order; the first failing job
    (in slice order) is the error and the chunks not started are cancelled."""
    if pool is None:
        results = []
        for i, job in enumerate(jobs):
            results.append(fn(*job))
            if progress is not None:
                progress(i + 1, total)
        return results
    size = max(1, -(-len(jobs) // (max(1, threads) * CHUNKS_PER_THREAD)))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    futures = [pool.submit(_run_chunk, fn, chunk) for chunk in chunks]
    try:
        gathered: list[Any] = []
        for future in futures:
            gathered.extend(future.result())
            if progress is not None:
                progress(len(gathered), total)
        return gathered
    except BaseException:
        for f in futures:
            f.cancel()
        raise


def _warn_missing(info: SeriesInfo) -> None:
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(
        f"{info.files[0]}: imagecodecs is not installed, so this compressed series "
        f"({info.transfer_syntax_uid}) is decoded by pydicom one slice after another; "
        "`pip install imagecodecs` decodes on every core", RuntimeWarning, stacklevel=4)


class Decoded(NamedTuple):
    """What :func:`decode_series` did: how many slices imagecodecs decoded (the others went to
    the fallback), and what ``finish`` returned for each slice, in order."""

    decoded: int
    finished: list[Any]


def decode_series(info: SeriesInfo, out: np.ndarray, progress: Progress | None, threads: int,
                  fallback: Fallback, finish: Callable[[np.ndarray], Any] | None = None
                  ) -> Decoded:
    """Fill ``out`` (n, rows, cols; stored dtype) with the decoded slices of ``info`` in sorted
    order, on ``threads`` threads; slices this module does not decode go to ``fallback``;
    ``finish`` is called on each slice once decoded (the loader's rescale, while the slice is
    in the cache)."""
    jobs = [(s, out[i], fallback, finish) for i, s in enumerate(info.slices)]
    n = len(jobs)
    if not _CODECS:
        if info.transfer_syntax_uid in _ACCEPT:
            _warn_missing(info)
        done = in_order(None, _fallback_slice, jobs, progress, n)
    elif threads <= 1 or n < 2:
        done = in_order(None, _decode_slice, jobs, progress, n)
    else:
        with ThreadPoolExecutor(max_workers=threads,
                                thread_name_prefix="response-tool-decode") as pool:
            done = in_order(pool, _decode_slice, jobs, progress, n, threads)
    return Decoded(sum(d for d, _ in done), [f for _, f in done])


def _fallback_slice(s: Any, target: np.ndarray, fallback: Fallback,
                    finish: Callable[[np.ndarray], Any] | None) -> tuple[bool, Any]:
    fallback(s, target)
    return False, None if finish is None else finish(target)
