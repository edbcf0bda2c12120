"""Masks and label maps (NIfTI, NRRD, DICOM SEG) aligned onto a loaded series' grid.

Alignment is by physical coordinates: the mask is resampled (nearest neighbour) onto the reference
volume's voxel centres, so a mask stored in another orientation (e.g. NIfTI LAS vs DICOM LPS), a
sub-volume, or a SEG with frames in reverse order lands on the right voxels.

What a mask file must be (one-line errors naming the file otherwise): 3-D (a 4-D file with a single
volume is used as 3-D), one value per voxel, and either integer labels ≥ 0 — stored as integers or
as whole-numbered floats — or a probability map with values in 0–1, which is thresholded at
:data:`PROBABILITY_THRESHOLD` (≥ 0.5 is foreground, label 1) with a note saying so.

:func:`read_label_map` also measures the mask's coverage of the image in the mask's own grid
(:class:`LabelMap`): how much of each label's volume lies outside the image (resampling crops it
away), and where a label is cut by the edge of the mask's own grid inside the image (the mask
covers only part of the image). ``response-tool burden`` refuses or warns on those numbers
(docs/burden.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from response_tool.domain.errors import DicomInputError, MaskAlignmentError

from .image import as_3d, check_readable, is_itk_file, read_itk
from .volume import Volume

#: A probability (float, 0–1) mask counts voxels with at least this probability as foreground.
PROBABILITY_THRESHOLD = 0.5
_SLAB = 8  # own-grid slices mapped to the image at a time (keeps temporaries small)


def _is_dicom_seg(path: Path) -> bool:
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        head = fh.read(132)
    if head[128:132] != b"DICM":
        return False
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["Modality"])
    except Exception as exc:  # a damaged header: say so rather than "not a mask file"
        raise DicomInputError(f"{path}: cannot read this DICOM file ({type(exc).__name__}: {exc})"
                              "; check the file") from exc
    return str(ds.get("Modality", "")) == "SEG"


def _seg_error(path: Path, exc: Exception) -> DicomInputError:
    text = " ".join(str(exc).split())
    return DicomInputError(f"{path}: cannot read this DICOM SEG ({text}); check the file")


def _read_seg(path: Path) -> tuple[sitk.Image, tuple[str, ...]]:
    import highdicom as hd

    try:
        seg = hd.seg.segread(str(path))
        return seg.get_volume(combine_segments=True, relabel=False).to_simpleitk(), ()
    except RuntimeError as exc:
        if "overlap" not in str(exc):
            raise _seg_error(path, exc) from exc
    except Exception as exc:  # highdicom raises many types for malformed SEGs
        raise _seg_error(path, exc) from exc
    try:
        return _overlapping_segments(path, seg)
    except Exception as exc:
        raise _seg_error(path, exc) from exc


def _overlapping_segments(path: Path, seg: object) -> tuple[sitk.Image, tuple[str, ...]]:
    """A SEG whose segments overlap (a tumour segment inside its liver segment), read segment by
    segment onto one grid and combined into labels: a voxel in several segments gets the label
    of the smallest of them — the one drawn inside the others — so each label holds its own
    segment's voxels outside the smaller ones. A note names each overlap."""
    volume = seg.get_volume(combine_segments=False)  # type: ignore[attr-defined]
    numbers = list(seg.segment_numbers)  # type: ignore[attr-defined]
    names = {d.SegmentNumber: str(d.SegmentLabel) for d in seg.SegmentSequence}  # type: ignore[attr-defined]
    stack = np.asarray(volume.array) > 0  # (z, y, x, segment)
    sizes = stack.reshape(-1, stack.shape[-1]).sum(axis=0)
    labels = np.zeros(stack.shape[:3], dtype=np.uint16)
    for i in sorted(range(len(numbers)), key=lambda i: -int(sizes[i])):  # largest first
        labels[stack[..., i]] = numbers[i]
    notes = []
    for a in range(len(numbers)):
        for b in range(a + 1, len(numbers)):
            both = int(np.count_nonzero(stack[..., a] & stack[..., b]))
            if both:
                inner, outer = (a, b) if sizes[a] <= sizes[b] else (b, a)
                ni, no = numbers[inner], numbers[outer]
                notes.append(
                    f"{path.name}: segments {no} '{names.get(no, no)}' and {ni} "
                    f"'{names.get(ni, ni)}' overlap in {both} voxels ({100 * both / sizes[inner]:.0f}"
                    f" % of {ni}): read per segment, the shared voxels are label {ni}, so label "
                    f"{no} holds '{names.get(no, no)}' outside '{names.get(ni, ni)}' (give both "
                    f"labels where the whole of {no} is meant, e.g. --liver-label {no} "
                    f"--tumor-label {ni})")
    image = sitk.GetImageFromArray(labels)
    affine = np.asarray(volume.affine, float)  # (z, y, x) index -> (x, y, z) LPS, with origin
    spacing = np.linalg.norm(affine[:3, :3], axis=0)  # per index axis (z, y, x)
    direction = affine[:3, :3] / spacing
    image.SetSpacing(tuple(float(v) for v in spacing[::-1]))
    image.SetOrigin(tuple(float(v) for v in affine[:3, 3]))
    image.SetDirection(tuple(float(v) for v in direction[:, ::-1].reshape(-1)))
    return image, tuple(notes)


def _read_label_image(p: Path) -> tuple[sitk.Image, tuple[str, ...]]:
    check_readable(p, "no such mask file; check the path")
    if is_itk_file(p):
        return read_itk(p), ()
    if _is_dicom_seg(p):
        return _read_seg(p)
    raise DicomInputError(
        f"{p}: not a mask file this tool reads; use NIfTI (.nii/.nii.gz), NRRD (.nrrd) or DICOM SEG")


def read_label_image(path: str | os.PathLike[str]) -> sitk.Image:
    """Read a label map as a SimpleITK image in its own geometry."""
    return _read_label_image(Path(path))[0]


def _as_labels(image: sitk.Image, path: Path) -> tuple[sitk.Image, tuple[str, ...]]:
    """``image`` (3-D, one component) as an integer label image, and notes on what was done."""
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise DicomInputError(f"{path}: a label map has one value per voxel, this has "
                              f"{image.GetNumberOfComponentsPerPixel()} (a vector or colour image)"
                              "; save the segmentation as one label per voxel")
    arr = sitk.GetArrayViewFromImage(image)
    if not arr.size:
        raise DicomInputError(f"{path}: the mask has no voxels; check the file")
    if np.issubdtype(arr.dtype, np.integer):
        low = int(arr.min())
        if low < 0:
            raise DicomInputError(f"{path}: holds negative values (down to {low}); a label map "
                                  "holds labels 0 (background), 1, 2, …")
        return image, ()
    finite = np.isfinite(arr)
    if not finite.all():
        raise DicomInputError(f"{path}: holds {int(arr.size - finite.sum())} NaN or infinite "
                              "value(s); a mask holds labels or probabilities 0–1")
    low, high = float(arr.min()), float(arr.max())
    if np.array_equal(arr, np.round(arr)):  # whole-numbered floats: labels stored as floats
        if low < 0:
            raise DicomInputError(f"{path}: holds negative values (down to {low:g}); a label map "
                                  "holds labels 0 (background), 1, 2, …")
        out = sitk.GetImageFromArray(arr.astype(np.uint16 if high < 65536 else np.uint32))
        out.CopyInformation(image)
        return out, ()
    if low >= 0.0 and high <= 1.0:
        out = sitk.GetImageFromArray((arr >= PROBABILITY_THRESHOLD).astype(np.uint8))
        out.CopyInformation(image)
        return out, (f"{path.name}: a probability mask (values {low:.3g}–{high:.3g}): voxels ≥ "
                     f"{PROBABILITY_THRESHOLD:g} counted as the mask (label 1)",)
    raise DicomInputError(f"{path}: holds non-integer values from {low:g} to {high:g}: neither a "
                          "label map (whole numbers) nor a probability map (0–1); threshold it "
                          "into labels first")


def _corners_text(corners: np.ndarray) -> str:
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    return f"x {lo[0]:.1f}..{hi[0]:.1f}, y {lo[1]:.1f}..{hi[1]:.1f}, z {lo[2]:.1f}..{hi[2]:.1f} mm"


def _image_corners(image: sitk.Image) -> np.ndarray:
    size = image.GetSize()
    return np.array([
        image.TransformContinuousIndexToPhysicalPoint((a, b, c))
        for a in (-0.5, size[0] - 0.5) for b in (-0.5, size[1] - 0.5) for c in (-0.5, size[2] - 0.5)])


def _image_extent(image: sitk.Image) -> str:
    return _corners_text(_image_corners(image))


def _volume_extent(volume: Volume) -> str:
    return volume.extent_text()


def resample_labels(labels: sitk.Image, reference: Volume) -> np.ndarray:
    """Nearest-neighbour resampling of ``labels`` onto ``reference``'s grid → (z, y, x) array."""
    f = sitk.ResampleImageFilter()
    f.SetSize([int(v) for v in reference.shape_zyx[::-1]])
    f.SetOutputSpacing([float(v) for v in reference.spacing_zyx_mm[::-1]])
    f.SetOutputOrigin([float(v) for v in reference.origin_xyz_mm])
    f.SetOutputDirection([float(v) for v in np.asarray(reference.direction_xyz).ravel()])
    f.SetInterpolator(sitk.sitkNearestNeighbor)
    f.SetDefaultPixelValue(0)
    return sitk.GetArrayFromImage(f.Execute(labels))


def _own_matrix(image: sitk.Image) -> tuple[np.ndarray, np.ndarray]:
    """(origin, matrix): physical xyz = origin + matrix @ index xyz, of the image's own grid."""
    direction = np.asarray(image.GetDirection(), float).reshape(3, 3)
    return np.asarray(image.GetOrigin(), float), direction @ np.diag(image.GetSpacing())


def _inside(reference: Volume, points_xyz: np.ndarray) -> np.ndarray:
    idx = reference.xyz_mm_to_index_zyx(points_xyz)
    shape = np.asarray(reference.shape_zyx, float)
    return np.all((idx >= -0.5) & (idx <= shape - 0.5), axis=-1)


@dataclass(frozen=True)
class Cut:
    """A label's foreground lying on a face of the mask's own grid where the image goes on: the
    mask stops there, the organ may not."""

    face: str            # e.g. "z 41.3 mm" (the face's position) or "x −120.0 mm"
    area_mm2: float      # foreground area on that face
    fraction: float      # of the largest cross-section parallel to the face


@dataclass(frozen=True, eq=False)
class LabelMap:
    """A mask on the image's grid (:attr:`labels`) with what the resampling did not show: the
    labels' volumes in the mask's own grid and how much of them lies outside the image."""

    path: Path
    labels: np.ndarray                     # (z, y, x) integer labels on the reference grid
    notes: tuple[str, ...] = ()
    own: np.ndarray | None = field(default=None, repr=False)  # (z, y, x) in the mask's own grid
    own_image: sitk.Image | None = field(default=None, repr=False)
    reference: Volume | None = field(default=None, repr=False)
    _outside: dict[int, int] = field(default_factory=dict, repr=False)
    _counts: dict[int, int] = field(default_factory=dict, repr=False)

    @property
    def extent_text(self) -> str:
        """The box the mask's own grid covers in patient millimetres, as text."""
        return "" if self.own_image is None else _image_extent(self.own_image)

    @property
    def own_voxel_ml(self) -> float:
        return 0.0 if self.own_image is None else float(np.prod(self.own_image.GetSpacing())) / 1e3

    def volume_ml(self, values: Iterable[int]) -> float:
        """Volume of the labels ``values`` in the mask's own grid (all of the file)."""
        return sum(self._counts.get(int(v), 0) for v in set(values)) * self.own_voxel_ml

    def outside_ml(self, values: Iterable[int]) -> float:
        """Of :meth:`volume_ml`, the part whose voxel centres lie outside the image."""
        return sum(self._outside.get(int(v), 0) for v in set(values)) * self.own_voxel_ml

    def cuts(self, values: Iterable[int]) -> list[Cut]:
        """Faces of the mask's own grid inside the image on which the labels ``values`` lie."""
        if self.own is None or self.own_image is None or self.reference is None:
            return []
        fg = np.isin(self.own, np.fromiter({int(v) for v in values}, dtype=np.int64))
        if not fg.any():
            return []
        origin, matrix = _own_matrix(self.own_image)
        spacing_xyz = np.asarray(self.own_image.GetSpacing(), float)
        out = []
        for axis_zyx in range(3):
            axis_xyz = 2 - axis_zyx
            others = tuple(a for a in range(3) if a != axis_zyx)
            profile = fg.sum(axis=others)
            top = float(profile.max())
            for layer, outward in ((0, -1), (fg.shape[axis_zyx] - 1, 1)):
                if not profile[layer]:
                    continue
                face = np.take(fg, layer, axis=axis_zyx)
                idx2 = np.argwhere(face)
                if len(idx2) > 2000:  # the image going on beyond the face: a sample is enough
                    idx2 = idx2[:: len(idx2) // 2000]
                zyx = np.insert(idx2, axis_zyx, layer + outward, axis=1).astype(float)
                beyond = origin + zyx[:, ::-1] @ matrix.T
                if _inside(self.reference, beyond).mean() < 0.5:
                    continue  # the image ends there too: nothing is cut away by the mask
                area = float(profile[layer]) * float(np.prod(spacing_xyz[[a for a in range(3)
                                                                          if a != axis_xyz]]))
                ijk = np.zeros(3)
                ijk[axis_xyz] = layer
                world = int(np.argmax(np.abs(matrix[:, axis_xyz])))  # the patient axis it runs on
                name = "xyz"[world]
                at = float((origin + matrix @ ijk)[world])
                out.append(Cut(f"{name} {at:.1f} mm", area, float(profile[layer]) / top))
        return out


def _coverage(own: np.ndarray, image: sitk.Image, reference: Volume
              ) -> tuple[dict[int, int], dict[int, int]]:
    """(voxels per label in the mask's own grid, of them outside the image)."""
    flat = own.reshape(-1)
    high = int(flat.max()) if flat.size else 0
    if high <= 65535:
        counts_arr = np.bincount(flat.astype(np.intp, copy=False), minlength=1)
        counts = {int(v): int(n) for v, n in enumerate(counts_arr) if n and v}
    else:
        values, n = np.unique(flat, return_counts=True)
        counts = {int(v): int(c) for v, c in zip(values, n, strict=True) if v}
    outside: dict[int, int] = {}
    if not counts or _inside(reference, _image_corners(image)).all():
        return counts, outside  # the mask's grid lies within the image: nothing outside
    origin, matrix = _own_matrix(image)
    for z0 in range(0, own.shape[0], _SLAB):
        slab = own[z0:z0 + _SLAB]
        idx = np.argwhere(slab)
        if not len(idx):
            continue
        idx[:, 0] += z0
        points = origin + idx[:, ::-1].astype(float) @ matrix.T
        out = ~_inside(reference, points)
        if out.any():
            vals, n = np.unique(own[tuple(idx[out].T)], return_counts=True)
            for v, c in zip(vals, n, strict=True):
                outside[int(v)] = outside.get(int(v), 0) + int(c)
    return counts, outside


def read_label_map(path: str | os.PathLike[str], reference: Volume, *, coverage: bool = True
                   ) -> LabelMap:
    """The mask at ``path`` on ``reference``'s grid, with its notes and (``coverage``) the volume
    of each label in the mask's own grid and how much of it lies outside the image."""
    p = Path(path)
    image, read_notes = _read_label_image(p)
    image, notes = _as_labels(as_3d(image, p, "mask"), p)
    notes = read_notes + notes
    out = resample_labels(image, reference)
    own = sitk.GetArrayFromImage(image)
    if not out.any() and own.any():
        raise MaskAlignmentError(
            f"{p}: the mask does not overlap the image (mask covers {_image_extent(image)}; "
            f"image covers {_volume_extent(reference)}); check that both belong to the same series "
            "and frame of reference")
    if not coverage:
        return LabelMap(p, out, notes)
    counts, outside = _coverage(own, image, reference)
    return LabelMap(p, out, notes, own, image, reference, outside, counts)


def load_label_map(path: str | os.PathLike[str], reference: Volume) -> np.ndarray:
    """Integer labels of the mask at ``path`` on ``reference``'s grid (z, y, x)."""
    return read_label_map(path, reference, coverage=False).labels


def present_labels(path: str | os.PathLike[str]) -> list[int]:
    """Non-zero label values in the mask file (in its own grid)."""
    p = Path(path)
    image, _ = _as_labels(as_3d(read_label_image(p), p, "mask"), p)
    return [int(v) for v in np.unique(sitk.GetArrayViewFromImage(image)) if v]


def load_mask(path: str | os.PathLike[str], reference: Volume, label: int | None = None) -> np.ndarray:
    """Boolean mask (z, y, x) of ``label`` (any non-zero voxel when ``None``) on ``reference``'s grid."""
    labels = load_label_map(path, reference)
    if label is None:
        return labels != 0
    mask = labels == label
    if not mask.any():
        present = present_labels(path)
        if label not in present:
            raise MaskAlignmentError(
                f"{path}: label {label} is not in this mask (labels present: "
                f"{', '.join(map(str, present)) or 'none'}); choose one of those")
        raise MaskAlignmentError(
            f"{path}: label {label} lies entirely outside the image grid; check the pairing of "
            "mask and image")
    return mask
