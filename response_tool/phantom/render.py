"""Rasterise the scenario into label maps and phase images (HU) on the acquisition grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from . import scenario as sc


@dataclass(frozen=True)
class Grid:
    """The acquisition grid: slice k at z = z0 + k·dz; pixel centres symmetric about x = y = 0."""

    n_slices: int = sc.N_SLICES
    matrix: int = sc.MATRIX
    pixel_mm: float = sc.PIXEL_SPACING_MM
    slice_mm: float = sc.SLICE_SPACING_MM
    z0_mm: float = sc.FIRST_SLICE_Z_MM

    @property
    def xy0_mm(self) -> float:
        return -(self.matrix - 1) / 2.0 * self.pixel_mm

    @property
    def origin_xyz_mm(self) -> tuple[float, float, float]:
        return (self.xy0_mm, self.xy0_mm, self.z0_mm)

    def z_mm(self, k: int) -> float:
        return self.z0_mm + k * self.slice_mm

    @property
    def voxel_ml(self) -> float:
        return self.pixel_mm * self.pixel_mm * self.slice_mm / 1000.0


def _bbox(e: sc.Ellipsoid, grid: Grid) -> tuple[slice, slice, slice]:
    cx, cy, cz = e.center_xyz_mm
    r = max(e.a_mm, e.b_mm)

    def rng(c: float, half: float, origin: float, step: float, n: int) -> slice:
        lo = int(np.floor((c - half - origin) / step)) - 1
        hi = int(np.ceil((c + half - origin) / step)) + 2
        return slice(max(lo, 0), min(max(hi, 0), n))

    return (rng(cz, e.c_mm, grid.z0_mm, grid.slice_mm, grid.n_slices),
            rng(cy, r, grid.xy0_mm, grid.pixel_mm, grid.matrix),
            rng(cx, r, grid.xy0_mm, grid.pixel_mm, grid.matrix))


def ellipsoid_mask(e: sc.Ellipsoid, grid: Grid) -> tuple[tuple[slice, slice, slice], np.ndarray]:
    """Voxels whose centre lies inside ``e``, as (bounding-box slices, boolean mask in the box)."""
    box = _bbox(e, grid)
    z = grid.z0_mm + np.arange(box[0].start, box[0].stop) * grid.slice_mm
    y = grid.xy0_mm + np.arange(box[1].start, box[1].stop) * grid.pixel_mm
    x = grid.xy0_mm + np.arange(box[2].start, box[2].stop) * grid.pixel_mm
    cx, cy, cz = e.center_xyz_mm
    t = np.radians(e.angle_deg)
    dx = (x - cx)[None, None, :]
    dy = (y - cy)[None, :, None]
    u = dx * np.cos(t) + dy * np.sin(t)
    v = -dx * np.sin(t) + dy * np.cos(t)
    w = (z - cz)[:, None, None]
    inside = (u / e.a_mm) ** 2 + (v / e.b_mm) ** 2 + (w / e.c_mm) ** 2 <= 1.0
    return box, inside


def _paint(labels: np.ndarray, e: sc.Ellipsoid, value: int, grid: Grid,
           where: np.ndarray | None = None) -> None:
    box, inside = ellipsoid_mask(e, grid)
    if where is not None:
        inside &= where[box]
    labels[box][inside] = value


def viable_ellipsoid(state: sc.LesionState) -> sc.Ellipsoid | None:
    """The viable part: the lesion scaled by ``viable_fraction``, against its wall along +u."""
    f = state.viable_fraction
    if f <= 0:
        return None
    e = state.total
    t = np.radians(e.angle_deg)
    shift = (1.0 - f) * e.a_mm
    cx, cy, cz = e.center_xyz_mm
    center = (cx + shift * np.cos(t), cy + shift * np.sin(t), cz)
    return sc.Ellipsoid(center, e.a_mm * f, e.b_mm * f, e.c_mm * f, e.angle_deg)


def _shrunk(e: sc.Ellipsoid, by_mm: float) -> sc.Ellipsoid | None:
    a, b, c = e.a_mm - by_mm, e.b_mm - by_mm, e.c_mm - by_mm
    if min(a, b, c) <= 0:
        return None
    return sc.Ellipsoid(e.center_xyz_mm, a, b, c, e.angle_deg)


def render_labels(timepoint: int, grid: Grid | None = None) -> np.ndarray:
    """Label map (z, y, x; uint8, labels of :data:`scenario.TISSUES`) at one time point."""
    grid = grid or Grid()
    labels = np.zeros((grid.n_slices, grid.matrix, grid.matrix), dtype=np.uint8)
    interior = None
    for value, e in sc.ANATOMY:
        _paint(labels, sc.placed(e, timepoint), value, grid, where=interior if value >= 4 else None)
        if value == 3 and interior is None:
            interior = labels == 3
    for lesion in sc.LESIONS:
        state = sc.placed_state(lesion.states[timepoint], timepoint)
        if state is None:
            continue
        if lesion.is_nodal:
            _paint(labels, state.total, 14, grid)
            continue
        _paint(labels, state.total, 17, grid)  # necrotic everywhere first …
        viable = viable_ellipsoid(state)
        if viable is not None:  # … then the enhancing rim and the viable core over it
            _paint(labels, viable, 16, grid)
            core = _shrunk(viable, sc.RIM_THICKNESS_MM)
            if core is not None:
                _paint(labels, core, 15, grid)
    return labels


def render_phase(labels: np.ndarray, phase: str, rng: np.random.Generator,
                 grid: Grid | None = None) -> np.ndarray:
    """HU image (z, y, x; int16) of one phase: tissue HU, slight blur, Gaussian noise."""
    grid = grid or Grid()
    column = 1 + sc.PHASE_ORDER.index(phase)
    lut = np.full(256, -1000.0, dtype=np.float32)
    for value, row in sc.TISSUES.items():
        lut[value] = row[column]
    hu = lut[labels]
    image = sitk.GetImageFromArray(hu)
    image.SetSpacing((grid.pixel_mm, grid.pixel_mm, grid.slice_mm))
    sigma = (sc.SMOOTHING_SIGMA_MM, sc.SMOOTHING_SIGMA_MM, 0.01)
    hu = sitk.GetArrayFromImage(sitk.SmoothingRecursiveGaussian(image, sigma))
    hu += rng.normal(0.0, sc.NOISE_SD_HU, size=hu.shape).astype(np.float32)
    return np.clip(np.rint(hu), -1024, 3071).astype(np.int16)
