"""Loading one scanned series (:class:`~.dicom_series.SeriesInfo`) into a :class:`Volume`.

:func:`load_series` reads the series into a ``(z, y, x)`` volume in Hounsfield units (int16 when the
rescale is lossless), in the order the scan sorted it — ImagePositionPatient projected on the slice
normal, never InstanceNumber — with the slice spacing the scan took from those positions — never
from SliceThickness.

Uncompressed little-endian pixel data is read straight from each file into a preallocated, sorted
volume (the byte offset of PixelData is recorded while scanning) on a few threads, and rescaled
slice by slice while still in the cache, which is close to the cost of reading the bytes at all;
JPEG 2000, JPEG-LS and RLE are decoded on every core into the volume (:mod:`._decode`,
imagecodecs), the other compressed syntaxes through pydicom's pixel handlers.

A series the scan refused (:attr:`~.dicom_series.SeriesInfo.refusal`) is not loaded: the error says
why and names the file. A series with missing slices or positions off a regular grid is resampled
onto the scan's :class:`~.dicom_series.SlicePlan`: acquired slices are copied, the missing ones
interpolated linearly between their neighbours (:attr:`Volume.interpolated_slices`), and the
warning saying so is on the volume. Before anything is allocated the volume's size is checked
against the memory available.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pydicom

from response_tool.domain.errors import DicomInputError

from ._decode import decode_series, in_order
from .dicom_scan import PERMISSION_DENIED
from .dicom_series import Progress, SeriesInfo, SlicePlan
from .volume import Volume

#: Only volumes larger than this are checked against the memory available before allocating.
MEMORY_CHECK_BYTES = 1 << 30


def _available_memory() -> int | None:
    """MemAvailable (bytes) from /proc/meminfo, else physical memory; None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _check_memory(info: SeriesInfo, itemsize: int) -> None:
    frame = info.rows * info.columns
    need = frame * itemsize * info.n_slices
    if info.plan is not None:
        need += frame * 4 * info.n_planes  # the resampled copy (float32 at most)
    if need < MEMORY_CHECK_BYTES:
        return
    available = _available_memory()
    if available is not None and need > available:
        raise DicomInputError(
            f"{info.files[0]}: series '{info.description or info.series_instance_uid}' needs "
            f"{need / 2**30:.1f} GiB of memory ({info.n_slices} slices of {info.rows} × "
            f"{info.columns}), and {available / 2**30:.1f} GiB are available; check Rows/Columns "
            "in the files, or load it on a machine with more memory")


def _stored_dtype(info: SeriesInfo) -> np.dtype:
    if info.bits_allocated == 16:
        return np.dtype("<i2") if info.pixel_representation == 1 else np.dtype("<u2")
    if info.bits_allocated == 8:
        return np.dtype("i1") if info.pixel_representation == 1 else np.dtype("u1")
    if info.bits_allocated == 32:
        return np.dtype("<i4") if info.pixel_representation == 1 else np.dtype("<u4")
    raise DicomInputError(f"{info.files[0]}: BitsAllocated {info.bits_allocated} is not supported "
                          "(8, 16 or 32); re-export the series")


def _usable_cpus() -> int:
    """The CPUs this process may run on (its affinity: a container's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


#: Threads that read or decode slices at once (file reads, NumPy's loops and imagecodecs'
#: decoders release the GIL).
READ_THREADS = max(1, min(8, _usable_cpus()))


def _pread_into(path: Path, offset: int, view: memoryview) -> int:
    """Read the file's bytes from ``offset`` into ``view``: one unbuffered open and (normally)
    one ``preadv``, no seek. The bytes read (fewer: the file ends early)."""
    with open(path, "rb", buffering=0) as fh:
        fd, got, size = fh.fileno(), 0, len(view)
        while got < size:
            n = os.preadv(fd, [view[got:]], offset + got)
            if n == 0:
                break
            got += n
        return got


def _read_pixels(s: Any, target: np.ndarray, frame_bytes: int, shift: int | None
                 ) -> bool:
    """One uncompressed file's pixels into ``target`` (its slice of the volume, stored dtype).

    ``shift`` (an integer intercept with slope 1, 16-bit data): while the slice is still in the
    cache, check it fits int16 once shifted and add the intercept in place (int16 arithmetic,
    modulo 2¹⁶, so stored uint16 comes out right too). True when shifted; False when it would not
    fit (the caller then rescales the whole volume to float32)."""
    try:
        got = _pread_into(s.path, s.pixel_offset, memoryview(target).cast("B"))  # type: ignore[arg-type]
    except PermissionError as exc:
        raise DicomInputError(f"{s.path}: {PERMISSION_DENIED}") from exc
    except OSError as exc:
        raise DicomInputError(f"{s.path}: cannot be read ({exc.strerror or exc}); check the "
                              "disk, or re-export the series") from exc
    if got != frame_bytes:
        raise DicomInputError(
            f"{s.path}: truncated pixel data ({got} of {frame_bytes} bytes); "
            "the file is damaged — re-export or remove it")
    return False if shift is None else _shift_slice(target, shift)


def _shift_slice(target: np.ndarray, shift: int) -> bool:
    """Add ``shift`` to one slice in place when the result stays inside int16 (see
    :func:`_read_pixels`): True when added, False (the slice untouched) when it would not fit."""
    # only the side that can leave int16 is looked at (one pass at most, none for int16 + 0)
    lo_limit, hi_limit = _I16.min - shift, _I16.max - shift
    info = np.iinfo(target.dtype)
    if info.min < lo_limit and int(target.min()) < lo_limit:
        return False
    if info.max > hi_limit and int(target.max()) > hi_limit:
        return False
    if shift:
        view = target.view(np.int16)
        view += np.int16(shift)
    return True


_I16 = np.iinfo(np.int16)


def _read_slice(s: Any, target: np.ndarray) -> None:
    """One file's pixels through pydicom (what the fast paths leave), or a DicomInputError."""
    try:
        arr = pydicom.dcmread(s.path).pixel_array
    except PermissionError as exc:
        raise DicomInputError(f"{s.path}: {PERMISSION_DENIED}") from exc
    except Exception as exc:  # pydicom/codec errors: say which file and what to do
        raise DicomInputError(
            f"{s.path}: cannot decode pixel data ({type(exc).__name__}: {exc}); the file is "
            "damaged or uses a transfer syntax without an installed decoder") from exc
    if arr.shape != target.shape:
        raise DicomInputError(
            f"{s.path}: image size {arr.shape} differs from the series "
            f"{target.shape}; re-export the series")
    target[...] = arr


def _lossless_shift(info: SeriesInfo, dtype: np.dtype) -> int | None:
    """The intercept to add in place while reading, when the rescale may be lossless int16
    (slope 1 and one integer intercept for every slice, 16-bit data); else None."""
    if dtype.itemsize != 2 or not info.slices:
        return None
    slope, intercept = info.slices[0].rescale_slope, info.slices[0].rescale_intercept
    if slope != 1.0 or not float(intercept).is_integer():
        return None
    if any(s.rescale_slope != slope or s.rescale_intercept != intercept for s in info.slices):
        return None
    return int(intercept)


def _read_raw_into(info: SeriesInfo, out: np.ndarray, progress: Progress | None,
                   threads: int | None = None, shift: int | None = None) -> bool:
    """Fill ``out`` (n, rows, cols; stored dtype) from the files in sorted order, each file read
    once, on ``threads`` threads (default :data:`READ_THREADS`); the first failing file (in
    slice order) is the error. With ``shift`` (see :func:`_read_pixels`) the intercept is added
    while reading: True when every slice was shifted (``out`` viewed as int16 is the volume in
    HU); False when it was not (``out`` holds the stored values)."""
    frame_bytes = info.rows * info.columns * out.dtype.itemsize
    fast = all(s.pixel_offset is not None and s.pixel_length is not None
               and s.pixel_length >= frame_bytes for s in info.slices)
    threads = READ_THREADS if threads is None else max(1, int(threads))
    n = len(info.slices)
    if not fast:  # compressed (or unusual) pixel data: decoded, on every core when it can be
        finish = None if shift is None else functools.partial(_shift_slice, shift=shift)
        shifted = decode_series(info, out, progress, threads, _read_slice, finish).finished
    elif threads == 1 or n < 4:
        jobs = [(s, out[i], frame_bytes, shift) for i, s in enumerate(info.slices)]
        shifted = in_order(None, _read_pixels, jobs, progress, n)
    else:
        jobs = [(s, out[i], frame_bytes, shift) for i, s in enumerate(info.slices)]
        with ThreadPoolExecutor(max_workers=threads,
                                thread_name_prefix="response-tool-read") as pool:
            shifted = in_order(pool, _read_pixels, jobs, progress, n, threads)
    if shift is None or all(shifted):
        return shift is not None
    if shift:  # one slice does not fit int16: undo the others' shift (exact, modulo 2¹⁶)
        for i in (i for i, done in enumerate(shifted) if done):
            view = out[i].view(np.int16)
            view -= np.int16(shift)
    return False


def load_series(info: SeriesInfo, progress: Progress | None = None) -> Volume:
    """Load ``info`` as a ``(z, y, x)`` volume in HU (int16 when lossless, else float32).

    Raises
    ------
    DicomInputError
        If the scan refused the series (the reason names the file), a file's pixels cannot be
        read, or the volume would not fit in memory.
    """
    if info.refusal is not None:
        raise DicomInputError(info.refusal)
    dtype = _stored_dtype(info)
    _check_memory(info, dtype.itemsize)
    stored = np.empty((info.n_slices, info.rows, info.columns), dtype=dtype)
    if _read_raw_into(info, stored, progress, shift=_lossless_shift(info, dtype)):
        array = stored.view(np.int16)  # rescaled to HU while reading, losslessly
    else:
        slopes = np.array([s.rescale_slope for s in info.slices])
        intercepts = np.array([s.rescale_intercept for s in info.slices])
        array = _rescale(stored, slopes, intercepts)
    interpolated: tuple[int, ...] = ()
    if info.plan is not None:
        array = _resample(array, info.plan)
        interpolated = info.plan.interpolated
    return Volume(
        array=array,
        spacing_zyx_mm=info.spacing_zyx_mm,
        origin_xyz_mm=info.origin_xyz_mm,
        direction_xyz=np.asarray(info.direction_xyz, dtype=float),
        series=info,
        warnings=info.warnings,
        interpolated_slices=interpolated,
    )


def _resample(array: np.ndarray, plan: SlicePlan) -> np.ndarray:
    """The slices on the plan's regular grid: acquired ones copied, the others interpolated
    linearly along the normal (rounded to whole HU when the volume is integer)."""
    out = np.empty((plan.n_slices, *array.shape[1:]), dtype=array.dtype)
    for k, (lo, hi, w) in enumerate(zip(plan.lo, plan.hi, plan.weight, strict=True)):
        if w == 0.0:
            out[k] = array[lo]
            continue
        blend = array[lo].astype(np.float32) * np.float32(1.0 - w) \
            + array[hi].astype(np.float32) * np.float32(w)
        out[k] = np.rint(blend) if np.issubdtype(array.dtype, np.integer) else blend
    return out


def _rescale(stored: np.ndarray, slopes: np.ndarray, intercepts: np.ndarray) -> np.ndarray:
    """Apply RescaleSlope/Intercept; int16 in place when lossless, else float32."""
    uniform = np.all(slopes == slopes[0]) and np.all(intercepts == intercepts[0])
    slope, intercept = float(slopes[0]), float(intercepts[0])
    if uniform and slope == 1.0 and intercept.is_integer() and stored.dtype.itemsize <= 2:
        lo, hi = (int(v) for v in (stored.min(), stored.max())) if stored.size else (0, 0)
        i16 = np.iinfo(np.int16)
        if i16.min <= lo + intercept and hi + intercept <= i16.max:
            if stored.dtype == np.int16 or (stored.dtype == np.uint16 and hi <= i16.max):
                out = stored.view(np.int16)
            else:
                out = stored.astype(np.int16)
            if intercept:
                out += np.int16(intercept)
            return out
    out = stored.astype(np.float32)
    out *= slopes.astype(np.float32)[:, None, None]
    out += intercepts.astype(np.float32)[:, None, None]
    return out
