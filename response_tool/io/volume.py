"""A loaded image volume with its geometry in patient (LPS) millimetres."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import SimpleITK as sitk

if TYPE_CHECKING:
    from .dicom import SeriesInfo


@dataclass(frozen=True, eq=False)
class Volume:
    """A ``(z, y, x)`` array and where its voxels are.

    ``origin_xyz_mm`` is the patient (DICOM LPS) position of the centre of voxel ``[0, 0, 0]``;
    column ``k`` of ``direction_xyz`` is the unit vector of index axis ``k`` in x, y, z order
    (column index, row index, slice index), as in SimpleITK.

    ``warnings`` are what every result from this volume must carry (missing slices resampled,
    tilt, a single slice, …: docs/io.md); ``interpolated_slices`` are the slice indices that were
    interpolated between acquired slices when the series was resampled onto a regular grid (not
    images: nothing should be measured on them).
    """

    array: np.ndarray
    spacing_zyx_mm: tuple[float, float, float]
    origin_xyz_mm: tuple[float, float, float]
    direction_xyz: np.ndarray = field(default_factory=lambda: np.eye(3))
    series: SeriesInfo | None = None
    warnings: tuple[str, ...] = ()
    interpolated_slices: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.array.ndim != 3:
            raise ValueError(f"a Volume is 3-D (z, y, x); got shape {self.array.shape}")
        if any(not np.isfinite(s) or s <= 0 for s in self.spacing_zyx_mm):
            raise ValueError(f"spacing must be positive millimetres, got {self.spacing_zyx_mm}")

    @property
    def shape_zyx(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.array.shape)  # type: ignore[return-value]

    @property
    def voxel_volume_mm3(self) -> float:
        return float(np.prod(self.spacing_zyx_mm))

    def _matrix(self) -> np.ndarray:
        """Index (x, y, z) → physical (x, y, z) linear part: direction @ diag(spacing_xyz)."""
        return np.asarray(self.direction_xyz, float) @ np.diag(self.spacing_zyx_mm[::-1])

    def patient_axis(self, axis_zyx: int) -> int:
        """The patient axis (0 x, 1 y, 2 z) index axis ``axis_zyx`` (0 slices, 1 rows, 2 columns)
        runs closest to."""
        return int(np.argmax(np.abs(np.asarray(self.direction_xyz, float)[:, 2 - axis_zyx])))

    def extent_text(self) -> str:
        """The box the voxels cover in patient millimetres, as text (for messages)."""
        nz, ny, nx = self.shape_zyx
        idx = np.array([(c, b, a) for a in (-0.5, nx - 0.5) for b in (-0.5, ny - 0.5)
                        for c in (-0.5, nz - 0.5)])
        pts = self.index_zyx_to_xyz_mm(idx)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return (f"x {lo[0]:.1f}..{hi[0]:.1f}, y {lo[1]:.1f}..{hi[1]:.1f}, "
                f"z {lo[2]:.1f}..{hi[2]:.1f} mm")

    def index_zyx_to_xyz_mm(self, idx: Any) -> np.ndarray:
        """Physical LPS coordinates (…, 3: x, y, z) of (continuous) voxel indices (…, 3: z, y, x)."""
        ijk = np.asarray(idx, float)[..., ::-1]
        return ijk @ self._matrix().T + np.asarray(self.origin_xyz_mm, float)

    def xyz_mm_to_index_zyx(self, points: Any) -> np.ndarray:
        """Continuous voxel indices (…, 3: z, y, x) of physical LPS points (…, 3: x, y, z)."""
        rel = np.asarray(points, float) - np.asarray(self.origin_xyz_mm, float)
        ijk = rel @ np.linalg.inv(self._matrix()).T
        return ijk[..., ::-1]

    def to_sitk(self) -> sitk.Image:
        image = sitk.GetImageFromArray(self.array)
        self.copy_geometry_to(image)
        return image

    def copy_geometry_to(self, image: sitk.Image) -> None:
        image.SetSpacing(tuple(float(v) for v in self.spacing_zyx_mm[::-1]))
        image.SetOrigin(tuple(float(v) for v in self.origin_xyz_mm))
        image.SetDirection(tuple(float(v) for v in np.asarray(self.direction_xyz).ravel()))

    @classmethod
    def from_sitk(cls, image: sitk.Image, warnings: tuple[str, ...] = ()) -> Volume:
        if image.GetDimension() != 3:
            raise ValueError(f"expected a 3-D image, got {image.GetDimension()}-D")
        return cls(
            array=sitk.GetArrayFromImage(image),
            spacing_zyx_mm=tuple(float(v) for v in image.GetSpacing()[::-1]),  # type: ignore[arg-type]
            origin_xyz_mm=tuple(float(v) for v in image.GetOrigin()),  # type: ignore[arg-type]
            direction_xyz=np.asarray(image.GetDirection(), float).reshape(3, 3),
            warnings=warnings,
        )
