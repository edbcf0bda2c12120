"""Is the HTB about the whole liver and only liver tumour? Measurements on masks on the image grid,
and the limits beyond which ``response-tool burden`` refuses (the number would be wrong) or only
notes (it is imprecise). docs/burden.md, "Coverage".

- :func:`tumour_outside_liver`: tumour regions (connected, 26-neighbourhood) that neither overlap
  nor touch the liver: not liver tumour (e.g. the spleen labelled as tumour). Counting them would
  add them to the liver (the liver is the union of the liver and tumour masks), so more than
  :data:`TUMOUR_OUTSIDE_REFUSE_FRACTION` of the tumour volume there is refused. Tumour next to the
  liver (a liver mask that excludes its tumours, an exophytic lesion) is liver tumour.
- :func:`edge_contacts`: where a mask lies on a face of the image grid (the first or last slice,
  or the in-plane border), with its area there as a fraction of its largest cross-section parallel
  to that face. A liver ending exactly at a face covers a few per cent of it (the phantom's: ≤ 5 %);
  one cut by the face much more: at :data:`CUT_NOTE_FRACTION` or more the result says the image
  (or the mask) may not cover the whole liver.

The limits on the mask's coverage of the image (foreground outside the image, a mask cut at the
edge of its own grid) use :data:`OUTSIDE_REFUSE_FRACTION` and :data:`CUT_REFUSE_FRACTION`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: More than this share of a mask's liver or tumour volume outside the image: refused.
OUTSIDE_REFUSE_FRACTION = 0.01
#: More than this share of the tumour volume in regions away from the liver: refused.
TUMOUR_OUTSIDE_REFUSE_FRACTION = 0.01
#: A mask on a face of its grid with at least this fraction of its largest cross-section is cut
#: there: noted.
CUT_NOTE_FRACTION = 0.25
#: … and where the mask's own grid ends inside the image with at least this fraction: refused.
CUT_REFUSE_FRACTION = 0.5


@dataclass(frozen=True)
class OutsideLiver:
    """Tumour regions that do not touch the liver."""

    voxels: int
    regions: int
    largest_centre_zyx: tuple[float, float, float] | None  # voxel index of the largest one


def tumour_outside_liver(liver: np.ndarray, tumour: np.ndarray) -> OutsideLiver:
    """Tumour voxels in connected regions that neither overlap nor touch ``liver``."""
    import SimpleITK as sitk  # here, not at import: `assess` loads no imaging library
    liver = np.asarray(liver, bool)
    tumour = np.asarray(tumour, bool)
    if not (tumour & ~liver).any():
        return OutsideLiver(0, 0, None)
    where = np.argwhere(tumour)
    lo = np.maximum(where.min(axis=0) - 1, 0)
    hi = np.minimum(where.max(axis=0) + 2, tumour.shape)
    box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
    t, liv = tumour[box], liver[box]
    regions = sitk.GetArrayFromImage(sitk.ConnectedComponent(
        sitk.GetImageFromArray(t.astype(np.uint8)), True))
    near = sitk.GetArrayFromImage(sitk.BinaryDilate(
        sitk.GetImageFromArray(liv.astype(np.uint8)), [1, 1, 1], sitk.sitkBox)).astype(bool)
    touching = np.unique(regions[near & t])
    away = (regions > 0) & ~np.isin(regions, touching)
    if not away.any():
        return OutsideLiver(0, 0, None)
    ids, sizes = np.unique(regions[away], return_counts=True)
    biggest = np.argwhere(regions == ids[int(np.argmax(sizes))]).mean(axis=0) + lo
    return OutsideLiver(int(away.sum()), int(len(ids)),
                        tuple(float(v) for v in biggest))  # type: ignore[arg-type]


@dataclass(frozen=True)
class EdgeContact:
    """A mask lying on a face of the grid: ``axis`` 0/1/2 = z/y/x, ``last`` the far face."""

    axis: int
    last: bool
    voxels: int
    fraction: float  # of the mask's largest cross-section parallel to the face


def edge_contacts(mask: np.ndarray, min_fraction: float = CUT_NOTE_FRACTION) -> list[EdgeContact]:
    """Faces of the grid on which ``mask`` lies with at least ``min_fraction`` of its largest
    cross-section parallel to the face."""
    mask = np.asarray(mask, bool)
    out = []
    if not mask.any():
        return out
    for axis in range(3):
        profile = np.count_nonzero(mask, axis=tuple(a for a in range(3) if a != axis))
        top = float(profile.max())
        if mask.shape[axis] == 1:
            continue  # one layer: every voxel is on both faces; nothing to say per face
        for last, layer in ((False, 0), (True, mask.shape[axis] - 1)):
            fraction = float(profile[layer]) / top
            if profile[layer] and fraction >= min_fraction:
                out.append(EdgeContact(axis, last, int(profile[layer]), fraction))
    return out


__all__ = ["CUT_NOTE_FRACTION", "CUT_REFUSE_FRACTION", "OUTSIDE_REFUSE_FRACTION",
           "TUMOUR_OUTSIDE_REFUSE_FRACTION", "EdgeContact", "OutsideLiver", "edge_contacts",
           "tumour_outside_liver"]
