"""Where a read's lines lie on the source images, and back.

A read stores its lines in patient millimetres (z, y, x). An SR points at images: a SCOORD is a
(column, row) pair on one referenced image, in the image's pixel frame whose top-left *corner* is
(0, 0) — the centre of the first pixel is (0.5, 0.5) (DICOM PS3.3 C.18.6.1.2, Graphic Data).
:class:`ImageIndex` reads the headers of a patient's image folder once and converts both ways.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from response_tool.domain.errors import DicomInputError

Zyx = tuple[float, float, float]

#: A line's end farther than this from the plane of the image it is drawn on (as a fraction of the
#: series' slice step) was not drawn on an acquired slice (an interpolated plane): the SR says so.
OFF_PLANE_FRACTION = 0.25


@dataclass(frozen=True)
class ImageRef:
    """One source image: its identity and its plane in patient space."""

    path: Path
    sop_class_uid: str
    sop_instance_uid: str
    series_uid: str
    study_uid: str
    position_xyz: np.ndarray   # ImagePositionPatient: centre of the first pixel
    row_dir: np.ndarray        # direction of increasing column index (IOP[0:3])
    col_dir: np.ndarray        # direction of increasing row index (IOP[3:6])
    spacing_rc: tuple[float, float]  # PixelSpacing: between rows, between columns (mm)

    @property
    def normal(self) -> np.ndarray:
        return np.cross(self.row_dir, self.col_dir)

    def to_pixel(self, point_zyx: Any) -> tuple[float, float, float]:
        """(column, row, distance from the plane in mm) of a patient point (z, y, x mm)."""
        d = np.asarray(point_zyx, float)[::-1] - self.position_xyz
        col = float(d @ self.row_dir) / self.spacing_rc[1] + 0.5
        row = float(d @ self.col_dir) / self.spacing_rc[0] + 0.5
        return col, row, float(d @ self.normal)

    def to_patient(self, col: float, row: float) -> Zyx:
        """The patient point (z, y, x mm) of a SCOORD (column, row) on this image."""
        xyz = (self.position_xyz + (col - 0.5) * self.spacing_rc[1] * self.row_dir
               + (row - 0.5) * self.spacing_rc[0] * self.col_dir)
        return (float(xyz[2]), float(xyz[1]), float(xyz[0]))


@dataclass
class _Series:
    info: Any                 # response_tool.io SeriesInfo
    images: list[ImageRef]    # sorted along the normal
    heights: np.ndarray       # position of each image along the normal (mm)


class ImageIndex:
    """The image series under a folder, by series UID and SOP instance UID (headers only)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        from response_tool.io.dicom import scan_dicom

        self.root = Path(root)
        self.scan = scan_dicom(self.root)
        self._series: dict[str, _Series] = {}
        self._by_sop: dict[str, tuple[ImageRef, str]] = {}
        self._headers: dict[str, Any] = {}
        for study in self.scan.studies:
            for info in study.series:
                if info.sub_series > 1 or info.series_instance_uid in self._series:
                    continue  # a split series: its first part answers for it
                self._series[info.series_instance_uid] = self._read_series(info)

    def _read_series(self, info: Any) -> _Series:
        import pydicom

        refs = []
        for path in info.files:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            iop = np.asarray([float(v) for v in ds.ImageOrientationPatient])
            ref = ImageRef(Path(path), str(ds.SOPClassUID), str(ds.SOPInstanceUID),
                           str(ds.SeriesInstanceUID), str(ds.StudyInstanceUID),
                           np.asarray([float(v) for v in ds.ImagePositionPatient]), iop[:3],
                           iop[3:], (float(ds.PixelSpacing[0]), float(ds.PixelSpacing[1])))
            refs.append(ref)
            self._headers[ref.sop_instance_uid] = ds
            self._by_sop[ref.sop_instance_uid] = (ref, info.series_instance_uid)
        normal = refs[0].normal
        heights = np.asarray([float(r.position_xyz @ normal) for r in refs])
        order = np.argsort(heights, kind="stable")
        return _Series(info, [refs[i] for i in order], heights[order])

    # -- look-ups -------------------------------------------------------------------------------
    def series(self, series_uid: str, where: str) -> _Series:
        try:
            return self._series[series_uid]
        except KeyError:
            raise DicomInputError(
                f"{where}: series {series_uid} is not under {self.root}; point --images to the "
                "patient folder that holds the read's series") from None

    def has_series(self, series_uid: str) -> bool:
        return series_uid in self._series

    def nearest_image(self, series_uid: str, point_zyx: Any, where: str) -> tuple[ImageRef, bool]:
        """The acquired image of the series nearest to a patient point, and whether the point is
        on its plane (within :data:`OFF_PLANE_FRACTION` of the slice step)."""
        s = self.series(series_uid, where)
        h = float(np.asarray(point_zyx, float)[::-1] @ s.images[0].normal)
        i = int(np.argmin(np.abs(s.heights - h)))
        step = float(s.info.spacing_zyx_mm[0]) or 1.0
        return s.images[i], abs(s.heights[i] - h) <= OFF_PLANE_FRACTION * step

    def slice_index(self, series_uid: str, point_zyx: Any) -> int | None:
        """The plane of the loaded volume a point lies on (the read's ``slice_index``)."""
        s = self._series.get(series_uid)
        if s is None:
            return None
        info = s.info  # stacked or resampled, the grid starts at the first slice
        origin = np.asarray(info.origin_xyz_mm, float)
        normal = s.images[0].normal
        d = (np.asarray(point_zyx, float)[::-1] - origin) @ normal
        return int(round(d / float(info.spacing_zyx_mm[0])))

    def phase(self, series_uid: str) -> str | None:
        s = self._series.get(series_uid)
        return None if s is None else str(s.info.phase.phase)

    def image(self, sop_instance_uid: str) -> ImageRef | None:
        found = self._by_sop.get(sop_instance_uid)
        return None if found is None else found[0]

    def header(self, sop_instance_uid: str) -> Any:
        """The image's header (a pydicom dataset without pixels), for the SR's evidence."""
        return self._headers[sop_instance_uid]

    def study_images(self, study_uid: str) -> list[ImageRef]:
        return [r for s in self._series.values() for r in s.images if r.study_uid == study_uid]
