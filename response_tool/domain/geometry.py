"""Diameters in physical space: line lengths and angles from layer (data) coordinates.

A napari layer maps data coordinates to world millimetres by ``world = A @ data + t`` — ``A`` is
``diag(scale)`` for an axis-aligned series, or the linear part of its affine. Lengths and angles
must be taken in world millimetres, never in voxels: with 0.78 × 0.78 × 2.5 mm voxels a line of
"10 voxels" is 7.8 mm in-plane and 25 mm across slices.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: A short axis is accepted as perpendicular to the long axis within this many degrees.
PERPENDICULAR_TOLERANCE_DEG = 10.0


def _linear(scale_or_matrix: Sequence[float] | np.ndarray) -> np.ndarray:
    m = np.asarray(scale_or_matrix, dtype=float)
    if m.ndim == 1:
        return np.diag(m)
    if m.shape == (4, 4):
        return m[:3, :3]
    if m.shape == (3, 3):
        return m
    raise ValueError(f"expected a scale (3 values) or a 3×3 / 4×4 matrix, got shape {m.shape}")


def to_world_mm(points: np.ndarray, scale_or_matrix: Sequence[float] | np.ndarray,
                translate: Sequence[float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    """Data coordinates (…, 3) → world millimetres (z, y, x)."""
    pts = np.asarray(points, dtype=float)
    return pts @ _linear(scale_or_matrix).T + np.asarray(translate, dtype=float)


def length_mm(p0: Sequence[float], p1: Sequence[float],
              scale_or_matrix: Sequence[float] | np.ndarray = (1.0, 1.0, 1.0)) -> float:
    """Length of the segment p0–p1 (data coordinates) in millimetres."""
    d = np.asarray(p1, dtype=float) - np.asarray(p0, dtype=float)
    return float(np.linalg.norm(_linear(scale_or_matrix) @ d))


def angle_deg(a: np.ndarray, b: np.ndarray,
              scale_or_matrix: Sequence[float] | np.ndarray = (1.0, 1.0, 1.0)) -> float:
    """Angle (0–90°) between segments ``a`` and ``b`` (each 2 × 3 data coordinates) in world mm."""
    m = _linear(scale_or_matrix)
    u = m @ (np.asarray(a[1], float) - np.asarray(a[0], float))
    v = m @ (np.asarray(b[1], float) - np.asarray(b[0], float))
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        raise ValueError("a segment of zero length has no direction")
    cos = abs(float(np.dot(u, v))) / (nu * nv)
    return float(np.degrees(np.arccos(min(1.0, cos))))


def is_perpendicular(a: np.ndarray, b: np.ndarray,
                     scale_or_matrix: Sequence[float] | np.ndarray = (1.0, 1.0, 1.0),
                     tolerance_deg: float = PERPENDICULAR_TOLERANCE_DEG) -> bool:
    """Whether ``b`` is perpendicular to ``a`` within ``tolerance_deg`` (in world mm)."""
    return angle_deg(a, b, scale_or_matrix) >= 90.0 - tolerance_deg


def on_one_slice(segment: np.ndarray, axis: int = 0, tol: float = 1e-6) -> bool:
    """Whether both ends lie on the same slice (equal data coordinate along ``axis``)."""
    seg = np.asarray(segment, dtype=float)
    return bool(abs(seg[1][axis] - seg[0][axis]) <= tol)


__all__ = ["PERPENDICULAR_TOLERANCE_DEG", "angle_deg", "is_perpendicular", "length_mm",
           "on_one_slice", "to_world_mm"]
