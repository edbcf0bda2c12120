"""Outline assistance for the semi-quantitative HTB: which slices to outline, and starting outlines
the reader edits (none of this is a segmentation).

- :func:`propose_slices` / :func:`propose_slices_between`: 4–6 axial slices spread evenly over the
  liver's cranio-caudal extent (from a mask, or from its first and last slice);
- :func:`grow_region_2d` and :func:`paint_liver`: the liver outline on one slice, grown from one
  click (SimpleITK region growing) and painted into the outlines without covering tumour;
- :func:`ellipse_on_slice` and :func:`tumours_from_diameters`: tumour outlines started from the
  lesions' measured diameters, each lesion taken as an ellipsoid, on slices with a liver outline
  only (:class:`TumourStarts` says which lesions it left out where);
- :func:`slice_areas_mm2`: the liver and tumour areas of the outlines on each slice.

Outlines are a ``(z, y, x)`` label array on the image grid: :data:`LIVER_LABEL` for liver,
:data:`TUMOUR_LABEL` for tumour (the liver area of a slice counts both).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from response_tool.domain.errors import BurdenInputError

#: Labels of an outline array: liver, and tumour (inside the liver).
LIVER_LABEL, TUMOUR_LABEL = 1, 2


def propose_slices(liver: np.ndarray, n: int = 5) -> tuple[int, ...]:
    """``n`` axial slice indices spread evenly over the liver's cranio-caudal extent: the centres
    of ``n`` equal parts of the range of slices that contain liver."""
    if not 1 <= n <= 20:
        raise BurdenInputError(f"{n} slices: choose between 4 and 6 (1–20 accepted)")
    z = np.flatnonzero(np.asarray(liver, bool).reshape(liver.shape[0], -1).any(axis=1))
    if not len(z):
        raise BurdenInputError("the liver mask is empty; no slices to propose")
    first, last = int(z[0]), int(z[-1])
    extent = last - first + 1
    picks = [first + int((k + 0.5) * extent / n) for k in range(n)]
    return tuple(sorted(set(min(last, p) for p in picks)))


def propose_slices_between(first: int, last: int, n: int = 5) -> tuple[int, ...]:
    """:func:`propose_slices` for a liver known only by its first and last slice."""
    lo, hi = sorted((int(first), int(last)))
    extent = np.zeros((hi + 1, 1), bool)
    extent[lo:hi + 1] = True
    return propose_slices(extent, n)


def _seed(seed_yx: Sequence[float]) -> tuple[int, int]:
    """The seed as (row, column) pixel indices, or a message saying what a seed is."""
    try:
        y, x = (int(round(float(v))) for v in seed_yx)
    except (TypeError, ValueError, OverflowError) as exc:
        raise BurdenInputError(f"seed {seed_yx!r}: give one (row, column) position on the slice, "
                               "two finite numbers") from exc
    return y, x


def grow_region_2d(image_hu: np.ndarray, seed_yx: Sequence[int], *, tolerance_hu: float | None = None,
                   radius_px: int = 3, closing_px: int = 2) -> np.ndarray:
    """An outline assisted from one click: the connected region around ``seed_yx`` on one axial
    slice whose HU lies within ``tolerance_hu`` of the seed neighbourhood's median (default 2.5 ×
    its standard deviation, at least 20 HU), holes filled and the border smoothed. SimpleITK's
    ConnectedThreshold on the slice only — the reader edits the result."""
    img = np.asarray(image_hu, dtype=np.float32)
    if img.ndim != 2:
        raise BurdenInputError("region growing works on one axial slice (a 2-D array)")
    y, x = _seed(seed_yx)
    if not (0 <= y < img.shape[0] and 0 <= x < img.shape[1]):
        raise BurdenInputError(f"seed ({y}, {x}) lies outside the slice {img.shape}")
    patch = img[max(0, y - radius_px):y + radius_px + 1, max(0, x - radius_px):x + radius_px + 1]
    centre = float(np.median(patch))
    tol = float(tolerance_hu) if tolerance_hu is not None else max(20.0, 2.5 * float(patch.std()))
    import SimpleITK as sitk

    smooth = sitk.CurvatureFlow(sitk.GetImageFromArray(img), timeStep=0.125, numberOfIterations=3)
    region = sitk.ConnectedThreshold(smooth, seedList=[(x, y)], lower=centre - tol,
                                     upper=centre + tol, replaceValue=1)
    if closing_px:
        region = sitk.BinaryMorphologicalClosing(region, [closing_px, closing_px])
    region = sitk.BinaryFillhole(region)
    return sitk.GetArrayFromImage(region).astype(bool)


def paint_liver(plane: np.ndarray, region: np.ndarray, liver_label: int = LIVER_LABEL,
                tumour_label: int = TUMOUR_LABEL) -> None:
    """Paint ``region`` (e.g. from :func:`grow_region_2d`) as liver on one slice of the outlines,
    in place, leaving tumour already drawn there as tumour."""
    grown = np.asarray(region, bool)
    if grown.shape != plane.shape:
        raise BurdenInputError(f"the grown region {grown.shape} and the outline slice "
                               f"{plane.shape} are not on one grid")
    plane[grown & (plane != tumour_label)] = liver_label


def slice_areas_mm2(outlines: np.ndarray, slices: Sequence[int], pixel_mm2: float,
                    liver_label: int = LIVER_LABEL, tumour_label: int = TUMOUR_LABEL
                    ) -> tuple[list[float], list[float]]:
    """Liver (liver ∪ tumour) and tumour areas on each slice of a (z, y, x) outline label array."""
    liver, tumour = [], []
    for z in slices:
        sl = outlines[int(z)]
        n_tumour = int(np.count_nonzero(sl == tumour_label))
        liver.append((int(np.count_nonzero(sl == liver_label)) + n_tumour) * pixel_mm2)
        tumour.append(n_tumour * pixel_mm2)
    return liver, tumour


def ellipse_on_slice(shape_yx: Sequence[int], long_end_yx_mm: np.ndarray, short_mm: float | None,
                     dz_mm: float, pixel_mm: Sequence[float], origin_yx_mm: Sequence[float]
                     ) -> np.ndarray:
    """A lesion's cross-section on a slice ``dz_mm`` from its measured slice, as an ellipsoid:
    the long axis (endpoints, mm) in-plane, the short axis (default: the long) across it and
    through the slices. A starting outline the reader edits, not a segmentation."""
    ends = np.asarray(long_end_yx_mm, dtype=float)
    centre = ends.mean(axis=0)
    a = float(np.linalg.norm(ends[1] - ends[0])) / 2.0
    b = (float(short_mm) if short_mm else 2 * a) / 2.0
    if a <= 0 or abs(dz_mm) >= b:
        return np.zeros(tuple(shape_yx), bool)
    shrink = np.sqrt(1.0 - (dz_mm / b) ** 2)
    u = (ends[1] - ends[0]) / (2 * a)
    yy, xx = np.mgrid[:shape_yx[0], :shape_yx[1]]
    py = origin_yx_mm[0] + yy * pixel_mm[0] - centre[0]
    px = origin_yx_mm[1] + xx * pixel_mm[1] - centre[1]
    along = py * u[0] + px * u[1]
    across = -py * u[1] + px * u[0]
    return (along / (a * shrink)) ** 2 + (across / (b * shrink)) ** 2 <= 1.0


@dataclass(frozen=True)
class TumourStarts:
    """What :func:`tumours_from_diameters` drew: the slices it drew tumour on, and each lesion it
    left out on a slice with no liver outline, as (the lesion's place in the input, slice)."""

    drawn: frozenset[int]
    without_liver: tuple[tuple[int, int], ...]


def tumours_from_diameters(outlines: np.ndarray, slices: Sequence[int], slice_z_mm: Sequence[float],
                           lesions: Iterable[tuple[np.ndarray, float | None]],
                           pixel_mm: Sequence[float], origin_yx_mm: Sequence[float],
                           tumour_label: int = TUMOUR_LABEL, *,
                           liver_label: int = LIVER_LABEL) -> TumourStarts:
    """Start tumour outlines on ``slices`` of ``outlines`` (in place) from measured lesions: each
    lesion is ``(long-axis endpoints as two (z, y, x) points in mm, short axis in mm or None)``
    and is drawn as :func:`ellipse_on_slice` at the distance of each slice (``slice_z_mm``, the
    slices' z in the same frame) from the endpoints' slice.

    Only on slices that already hold a liver outline (``liver_label``): the liver area of a slice
    counts its tumour, so a tumour drawn alone would be the whole liver there (issue 23: an HTB
    of 22.2 % against a true 2.09 %). A lesion crossing a slice without one is not drawn there
    and is returned in :attr:`TumourStarts.without_liver`, for the reader to outline the liver."""
    if len(slices) != len(slice_z_mm):
        raise BurdenInputError(f"{len(slices)} slice(s) but {len(slice_z_mm)} slice position(s); "
                               "give one z (mm) per slice")
    has_liver = {int(z): bool((outlines[int(z)] == liver_label).any()) for z in slices}
    drawn: set[int] = set()
    without_liver: list[tuple[int, int]] = []
    for k, (long_ends_zyx_mm, short_mm) in enumerate(lesions):
        ends = np.asarray(long_ends_zyx_mm, dtype=float)
        if ends.shape != (2, 3):
            raise BurdenInputError(f"a lesion's long axis has shape {ends.shape}; give its two "
                                   "endpoints as (z, y, x) in mm")
        for z, z_mm in zip(slices, slice_z_mm, strict=True):
            disc = ellipse_on_slice(outlines.shape[1:], ends[:, 1:], short_mm,
                                    float(z_mm) - float(ends[0, 0]), pixel_mm, origin_yx_mm)
            if not disc.any():
                continue
            if not has_liver[int(z)]:
                without_liver.append((k, int(z)))
                continue
            outlines[z][disc] = tumour_label
            drawn.add(int(z))
    return TumourStarts(frozenset(drawn), tuple(without_liver))


__all__ = ["LIVER_LABEL", "TUMOUR_LABEL", "TumourStarts", "ellipse_on_slice", "grow_region_2d",
           "paint_liver", "propose_slices", "propose_slices_between", "slice_areas_mm2",
           "tumours_from_diameters"]
