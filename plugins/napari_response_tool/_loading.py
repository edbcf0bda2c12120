"""Loading a study off the UI thread, the displayed slice first (no Qt here; the Patient panel
runs :func:`load_steps` in a napari thread worker and turns each step into layer updates).

For each series (portal-venous first, arterial last, the order the layers are stacked):

1. ``("first", info, volume)`` — the slice at the displayed position alone (one file read:
   milliseconds), in a volume of the series' full size whose other slices are still zero, so the
   layer appears at once with its final placement, slider range and window. The worker then
   waits (up to :data:`SHOWN_TIMEOUT_S`) until the UI thread says the layer is on screen
   (``shown.set()``): adding a napari layer is some 50–100 ms of Python on the UI thread, and
   reader threads competing for the GIL meanwhile would stretch it to 150–200 ms of frozen UI;
2. ``("full", info, volume)`` — the whole series, which replaces the placeholder's data;
   while it is read, ``report(description, done, total)`` says how far (the progress bar).

A series whose slices are resampled onto a regular grid (missing slices) has no single file for
a displayed slice: it skips step 1. A series the core refuses yields ``("error", info, message)``
and the others still load.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from response_tool.domain.errors import ResponseToolError
from response_tool.io import SeriesInfo, load_series
from response_tool.io.volume import Volume

#: progress is reported about this many times per series
_PROGRESS_STEPS = 20
#: longest wait for the UI thread to show a series' first slice before reading on regardless
SHOWN_TIMEOUT_S = 2.0


def slice_at(info: SeriesInfo, z_world_mm: float | None) -> int:
    """The index of ``info``'s slice nearest the displayed world z (patient mm), or the middle
    slice when nothing is displayed yet or the series is not axial-aligned."""
    n = info.n_planes
    direction = np.asarray(info.direction_xyz, dtype=float)
    if z_world_mm is None or not np.allclose(direction, np.eye(3), atol=1e-4):
        return n // 2
    k = (float(z_world_mm) - float(info.origin_xyz_mm[2])) / float(info.spacing_zyx_mm[0])
    return int(min(max(round(k), 0), n - 1))


def first_slice(info: SeriesInfo, k: int) -> Volume | None:
    """A volume of ``info``'s full size holding only slice ``k`` (others zero), read from one
    file; None when the series is resampled (no one file is slice ``k``)."""
    if info.plan is not None or not info.slices or info.refusal is not None:
        return None
    one = dataclasses.replace(info, slices=(info.slices[k],), n_slices=1,
                              files=(info.slices[k].path,))
    single = load_series(one)
    array = np.zeros((info.n_slices, *single.array.shape[1:]), dtype=single.array.dtype)
    array[k] = single.array[0]
    return Volume(array=array, spacing_zyx_mm=info.spacing_zyx_mm,
                  origin_xyz_mm=info.origin_xyz_mm,
                  direction_xyz=np.asarray(info.direction_xyz, dtype=float), series=info,
                  warnings=info.warnings)


def load_steps(series: Sequence[SeriesInfo], z_world_mm: float | None,
               report: Callable[[str, int, int], Any] | None = None,
               shown: threading.Event | None = None) -> Iterator[tuple[str, Any, Any]]:
    """The steps of loading ``series`` (see the module docstring), for a worker thread.
    ``report(description, done, total)`` is called from that thread as slices are read (about
    20-odd times a series): give it something thread-safe (a Qt signal's ``emit``). ``shown``,
    when given, is set by the UI thread once a ``"first"`` step is on screen; the rest of that
    series is read only then (or after :data:`SHOWN_TIMEOUT_S`)."""
    for info in series:
        try:
            placeholder = first_slice(info, slice_at(info, z_world_mm))
            if placeholder is not None:
                if shown is not None:
                    shown.clear()
                yield "first", info, placeholder
                if shown is not None:
                    shown.wait(SHOWN_TIMEOUT_S)
            every = max(1, info.n_slices // _PROGRESS_STEPS)

            def progress(done: int, total: int, info: SeriesInfo = info, every: int = every) -> None:
                if report is not None and (done % every == 0 or done == total):
                    report(info.description or info.series_instance_uid, done, total)

            yield "full", info, load_series(info, progress)
        except ResponseToolError as exc:
            yield "error", info, str(exc)
