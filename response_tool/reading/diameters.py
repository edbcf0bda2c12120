"""RECIST lines from a lesion's segmentation.

* **Long axis** (RECIST 1.1 section 3.1.1, Eisenhauer et al. 2009: "the longest diameter in the
  plane of measurement", axial): on each axial slice the two farthest voxels of the lesion
  (they lie on its convex hull), and the slice where that distance is largest.
* **Short axis** (for nodes, and reported for every lesion): the longest chord perpendicular to
  the long axis on the same slice (RECIST 1.1 section 3.1.1: "the short axis ... perpendicular
  to the longest diameter").
* **Viable diameter** (mRECIST, Lencioni & Llovet 2010: the longest diameter of the arterially
  enhancing part): the long axis of the largest enhancing region, on the slice where it is
  longest.

Edges follow the expert-mask convention of ``../shared/data/real-lesions`` (and of a reader's
calipers placed on the lesion's edges): the distance between the two voxel centres plus one
pixel, each end voxel covering half a pixel beyond its centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from response_tool.domain.errors import ResponseToolError


@dataclass(frozen=True)
class SliceLines:
    """A region's long axis ``a``–``b`` and perpendicular short axis ``p``–``q`` on one slice,
    in slice millimetres (y, x from the slice's first voxel), with their lengths."""

    a: np.ndarray
    b: np.ndarray
    long_mm: float
    p: np.ndarray
    q: np.ndarray
    short_mm: float


def _hull_points(pts: np.ndarray) -> np.ndarray:
    """The points that can be farthest apart: the convex hull's vertices (all points when few
    or collinear)."""
    if len(pts) <= 3:
        return pts
    from scipy.spatial import ConvexHull, QhullError

    try:
        return pts[ConvexHull(pts).vertices]
    except QhullError:  # collinear: a one-voxel-wide line
        return pts


def _farthest_pair(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    h = _hull_points(pts)
    if len(h) == 1:
        return h[0], h[0], 0.0
    d = np.sqrt(((h[:, None, :] - h[None, :, :]) ** 2).sum(axis=2))
    i, j = np.unravel_index(int(np.argmax(d)), d.shape)
    return h[i], h[j], float(d[i, j])


def slice_lines(region: np.ndarray, pixel_yx: tuple[float, float]) -> SliceLines:
    """Long and short axis of a 2-D region (bool, y x) with pixels of ``pixel_yx`` mm."""
    pix = np.asarray(pixel_yx, float)
    step = float(pix.mean())
    pts = np.argwhere(region) * pix
    a, b, dist = _farthest_pair(_edge_points(region, pix))
    u = np.array([0.0, 1.0]) if dist == 0.0 else (b - a) / dist  # one voxel: a pixel either way
    a, b = a - u * step / 2, b + u * step / 2
    v = np.array([-u[1], u[0]])
    along, across = pts @ u, pts @ v
    bins = np.floor((along - along.min()) / step).astype(int)
    order = np.argsort(bins, kind="stable")
    edges = np.flatnonzero(np.diff(bins[order])) + 1
    best = (-1.0, 0, 0.0, 0.0)
    for group in np.split(order, edges):
        lo, hi = float(across[group].min()), float(across[group].max())
        if hi - lo > best[0]:
            best = (hi - lo, int(bins[group[0]]), lo, hi)
    width, k, lo, hi = best
    at = along.min() + (k + 0.5) * step
    centre = at * u
    p, q = centre + v * (lo - step / 2), centre + v * (hi + step / 2)
    return SliceLines(a, b, dist + step, p, q, width + step)


def _edge_points(region: np.ndarray, pixel_yx: np.ndarray) -> np.ndarray:
    """The region's edge pixels (mm): the farthest pair lies among them."""
    inner = ndi.binary_erosion(region)
    return np.argwhere(region & ~inner) * pixel_yx


def longest_slice(mask: np.ndarray, pixel_yx: tuple[float, float]) -> tuple[int, SliceLines]:
    """The slice of a 3-D mask (z, y, x) where its long axis is longest, and its lines (ties go
    to the larger short axis)."""
    pix = np.asarray(pixel_yx, float)
    lengths = {int(z): _farthest_pair(_edge_points(mask[z], pix))[2]
               for z in np.flatnonzero(mask.any(axis=(1, 2)))}
    if not lengths:
        raise ResponseToolError("click-to-measure: the lesion's mask is empty; nothing to measure")
    top = max(lengths.values())
    ties = [z for z, v in lengths.items() if v >= top - 1e-6]
    lines = {z: slice_lines(mask[z], pixel_yx) for z in ties}
    z = max(ties, key=lambda k: lines[k].short_mm)
    return z, lines[z]


def largest_part_lines(mask: np.ndarray, pixel_yx: tuple[float, float]
                       ) -> tuple[int, SliceLines] | None:
    """The viable diameter's rule: on each slice the long axis of the largest connected part of
    ``mask`` (enhancing foci apart from it are not one diameter); the slice where it is longest.
    None when the mask is empty."""
    best: tuple[int, SliceLines] | None = None
    for z in np.flatnonzero(mask.any(axis=(1, 2))):
        labels, n = ndi.label(mask[z])
        sizes = np.bincount(labels.ravel())[1:]
        part = labels == (int(np.argmax(sizes)) + 1)
        lines = slice_lines(part, pixel_yx)
        if best is None or lines.long_mm > best[1].long_mm:
            best = (int(z), lines)
    return best


__all__ = ["SliceLines", "largest_part_lines", "longest_slice", "slice_lines"]
