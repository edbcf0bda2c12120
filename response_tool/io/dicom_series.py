"""What a DICOM scan finds, headers only: :class:`StudyInfo` → :class:`SeriesInfo` →
:class:`SliceHeader`, gathered in a :class:`DicomScan` (see :mod:`.dicom_scan`), and what
:func:`~.dicom_load.load_series` needs to read the pixels."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from response_tool.domain.errors import DicomInputError

from .phase import PhaseGuess

#: A progress callback: (done, total).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SliceHeader:
    """What the loader needs of one file, read while scanning."""

    path: Path
    position_xyz_mm: tuple[float, float, float]
    pixel_offset: int | None  # byte offset of uncompressed pixel data in the file, if any
    pixel_length: int | None
    rescale_slope: float
    rescale_intercept: float
    instance_number: int | None


@dataclass(frozen=True)
class SlicePlan:
    """How a series whose slices are not on a regular grid is loaded: onto the regular grid of
    ``len(lo)`` slices, ``spacing_zyx_mm[0]`` apart along the normal, starting at the first slice.
    Output slice ``k`` is ``slices[lo[k]] · (1 − weight[k]) + slices[hi[k]] · weight[k]`` (weight
    0: slice ``lo[k]`` itself, no interpolation)."""

    lo: tuple[int, ...]
    hi: tuple[int, ...]
    weight: tuple[float, ...]

    @property
    def n_slices(self) -> int:
        return len(self.lo)

    @property
    def interpolated(self) -> tuple[int, ...]:
        """Output slices that are interpolated between two acquired slices (not images)."""
        return tuple(k for k, w in enumerate(self.weight) if w > 0.0)


@dataclass(frozen=True)
class SeriesInfo:
    """One image series (headers only, no pixels)."""

    study_instance_uid: str
    series_instance_uid: str
    sub_series: int
    patient_id: str
    study_date: dt.date | None
    modality: str
    description: str
    protocol_name: str
    series_number: int | None
    acquisition_time: dt.time | None
    files: tuple[Path, ...]
    n_slices: int
    rows: int
    columns: int
    spacing_zyx_mm: tuple[float, float, float]
    origin_xyz_mm: tuple[float, float, float]
    direction_xyz: tuple[tuple[float, float, float], ...]
    phase: PhaseGuess
    warnings: tuple[str, ...]
    contrast_agent: str | None = None
    study_description: str = ""
    transfer_syntax_uid: str = ""
    bits_allocated: int = 16
    pixel_representation: int = 0
    slices: tuple[SliceHeader, ...] = field(default=(), repr=False, compare=False)
    #: the regular grid the slices are resampled onto (None: they are stacked as they are)
    plan: SlicePlan | None = field(default=None, repr=False, compare=False)
    #: why the series cannot be loaded (None: it can); also in :attr:`warnings`
    refusal: str | None = None

    def with_phase(self, phase: str, reason: str) -> SeriesInfo:
        """A copy with the reader's phase; the detected phase stays in the evidence."""
        evidence = self.phase.evidence + (
            f"overridden: {self.phase.phase} → {phase} ({reason})",)
        # the reader decides the phase; what the header said of the series stays known
        return dataclasses.replace(
            self, phase=PhaseGuess(phase, evidence, "high", overridden=True,
                                   not_for_reading=self.phase.not_for_reading,
                                   hint=self.phase.hint))

    @property
    def n_planes(self) -> int:
        """Slices of the loaded volume (more than :attr:`n_slices` when gaps are resampled)."""
        return self.plan.n_slices if self.plan is not None else self.n_slices

    @property
    def folder(self) -> Path:
        """The folder holding the series' files (their common parent)."""
        parents = {f.parent for f in self.files}
        return parents.pop() if len(parents) == 1 else Path(os.path.commonpath([str(p) for p in parents]))

    @property
    def label(self) -> str:
        return f"{self.description or 'series'} ({self.series_instance_uid})"


@dataclass(frozen=True)
class StudyInfo:
    study_instance_uid: str
    study_date: dt.date | None
    patient_id: str
    description: str
    series: tuple[SeriesInfo, ...]


@dataclass(frozen=True)
class DicomScan:
    """Result of :func:`scan_dicom`: studies in date order and the files that were skipped."""

    root: Path
    studies: tuple[StudyInfo, ...]
    skipped: tuple[tuple[Path, str], ...]

    @property
    def series(self) -> tuple[SeriesInfo, ...]:
        return tuple(s for st in self.studies for s in st.series)


def single_series(scan: DicomScan) -> SeriesInfo:
    """The one series of ``scan``; an error listing them when there are several."""
    series = scan.series
    if len(series) == 1:
        return series[0]
    listing = "; ".join(f"{s.description or '?'} [{s.series_instance_uid}]" for s in series[:6])
    raise DicomInputError(
        f"{scan.root}: holds {len(series)} series ({listing}); point to one series' folder")
