"""Real patients' lesions with an expert reference, for click-to-measure's tests and benchmark.

Read from ``../shared/data/real-lesions`` (its README names each source and licence): the
pyradiomics test cases (two lung CT, three MR) and one arterial-phase CT slice of a hepatocellular
carcinoma from TCIA HCC-TACE-Seg. Optionally, more lesions listed in a manifest outside the
repository (``RESPONSE_TOOL_EXTRA_LESIONS=path/manifest.json``; benchmarks/README.md says which
were used for the committed figures): never copied into the repository.

Each lesion is one connected component of its expert label. The reference diameters follow the
shared README's convention, computed here independently of the code under test: on each axial
slice the largest in-plane Feret diameter between voxel centres plus one pixel (edge to edge); the
long axis is the largest over the slices; the short axis is the longest chord perpendicular to it
on that slice, plus one pixel. ``tests/core/reading/test_real_lesions.py`` checks these against the
README's table.

Clicks: the *centre* click is the lesion voxel nearest to the lesion's centroid on the slice of
its long axis (where a reader looks first); the *off-centre* clicks are 3 mm from it along +x,
−x, +y and −y (in-plane; a reader's click is rarely at the centre).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from response_tool.io.volume import Volume

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real-lesions"
PYRADIOMICS = SHARED / "pyradiomics-testcases"
HCC = SHARED / "hcc-tace-seg-hcc034"
#: The off-centre clicks' distance from the centre click (mm): the issue's "3 mm off centre".
OFF_CENTRE_MM = 3.0
#: The README's table (long, short mm), for the check that our reference agrees with it.
README_REFERENCE = {
    "lung1": (16.5, 10.4), "lung2": (55.9, 32.6), "brain1-1": (27.2, 17.7),
    "brain1-2": (37.8, 20.7), "brain2": (16.3, 10.7), "breast1": (8.4, 5.7),
    "hcc034": (47.4, 45.9),
}


@dataclass(frozen=True, eq=False)
class RealLesion:
    """One real lesion: its image, its expert mask (on the image's grid) and reference diameters."""

    lesion_id: str
    modality: str             # "CT" or "MR"
    kind: str                 # what it is (organ, lesion type)
    volume: Volume
    mask: np.ndarray          # bool (z, y, x): this lesion only
    long_mm: float
    short_mm: float
    long_slice: int           # the slice of the reference long axis
    source: str
    arterial: Volume | None = None

    def centre_click_zyx_mm(self) -> np.ndarray:
        z = self.long_slice
        yx = np.argwhere(self.mask[z])
        centroid = yx.mean(axis=0)
        near = yx[np.argmin(((yx - centroid) * self.volume.spacing_zyx_mm[1:]) ** 2 @ [1, 1])]
        return index_to_zyx_mm(self.volume, np.array([z, *near], float))

    def clicks(self) -> dict[str, np.ndarray]:
        """The centre click and the four 3-mm off-centre clicks (patient mm, z y x)."""
        centre = self.centre_click_zyx_mm()
        z = self.long_slice
        out = {"centre": centre}
        for name, d_yx in (("+x", (0, 1)), ("-x", (0, -1)), ("+y", (1, 0)), ("-y", (-1, 0))):
            index = np.array([z, *(np.asarray(d_yx) * OFF_CENTRE_MM
                                   / np.asarray(self.volume.spacing_zyx_mm[1:]))], float)
            index[1:] += self.volume.xyz_mm_to_index_zyx(centre[::-1])[1:]
            out[name] = index_to_zyx_mm(self.volume, index)
        return out


def index_to_zyx_mm(volume: Volume, index_zyx: np.ndarray) -> np.ndarray:
    return volume.index_zyx_to_xyz_mm(index_zyx)[::-1]


def feret_on_slice(mask2d: np.ndarray, pixel_yx: tuple[float, float]) -> tuple[float, float]:
    """(long, short) mm of a 2-D mask: the largest voxel-centre distance + one pixel, and the
    longest chord perpendicular to it (voxels binned one pixel wide along the long axis) + one
    pixel. Brute force over the boundary voxels: independent of the code under test."""
    pts = np.argwhere(mask2d) * np.asarray(pixel_yx, float)
    if len(pts) == 1:
        return float(np.mean(pixel_yx)), float(np.mean(pixel_yx))
    # the farthest pair lies on the region's edge: all pairs of edge voxels (brute force)
    inner = mask2d.copy()
    inner[1:-1, 1:-1] = ~(mask2d[:-2, 1:-1] & mask2d[2:, 1:-1] & mask2d[1:-1, :-2]
                          & mask2d[1:-1, 2:])
    edge = np.argwhere(mask2d & inner) * np.asarray(pixel_yx, float)
    d = np.sqrt(((edge[:, None, :] - edge[None, :, :]) ** 2).sum(axis=2))
    i, j = np.unravel_index(np.argmax(d), d.shape)
    a, b, far = edge[i], edge[j], float(d[i, j])
    pixel = float(np.mean(pixel_yx))
    u = (b - a) / far
    v = np.array([-u[1], u[0]])
    along, across = pts @ u, pts @ v
    bins = np.floor((along - along.min()) / pixel).astype(int)
    short = max(float(np.ptp(across[bins == k])) for k in np.unique(bins))
    return far + pixel, short + pixel


def reference_diameters(mask: np.ndarray, spacing_zyx: tuple[float, float, float]
                        ) -> tuple[float, float, int]:
    """(long, short, slice) by the shared README's convention (largest Feret over the slices)."""
    best = (-1.0, 0.0, -1)
    for z in np.flatnonzero(mask.any(axis=(1, 2))):
        m = mask[z]
        long_mm, short_mm = feret_on_slice(m, spacing_zyx[1:])
        # a tie (the same long axis on two slices) goes to the larger short axis
        if long_mm > best[0] + 1e-6 or (abs(long_mm - best[0]) <= 1e-6 and short_mm > best[1]):
            best = (long_mm, short_mm, int(z))
    return best


def _components(label: np.ndarray) -> list[np.ndarray]:
    # numbered in raster order (as the shared README numbers brain1's two components)
    cc = sitk.GetArrayFromImage(sitk.ConnectedComponent(
        sitk.GetImageFromArray((label > 0).astype(np.uint8)), True))
    return [cc == k for k in range(1, int(cc.max()) + 1)]


def _lesions_of(lesion_id: str, volume: Volume, label: np.ndarray, modality: str, kind: str,
                source: str) -> list[RealLesion]:
    parts = _components(label)
    out = []
    for k, mask in enumerate(parts, start=1):
        long_mm, short_mm, z = reference_diameters(mask, volume.spacing_zyx_mm)
        name = lesion_id if len(parts) == 1 else f"{lesion_id}-{k}"
        out.append(RealLesion(name, modality, kind, volume, mask, long_mm, short_mm, z, source))
    return out


PYRADIOMICS_CASES = {  # case: modality, what it is (the shared README's description)
    "lung1": ("CT", "lung: part-solid nodule"),
    "lung2": ("CT", "lung: solid tumour touching the mediastinum and chest wall"),
    "brain1": ("MR", "brain"),
    "brain2": ("MR", "brain"),
    "breast1": ("MR", "breast"),
}


def _pyradiomics(case: str) -> list[RealLesion]:
    image = sitk.ReadImage(str(PYRADIOMICS / f"{case}_image.nrrd"))
    label = sitk.GetArrayFromImage(sitk.ReadImage(str(PYRADIOMICS / f"{case}_label.nrrd")))
    modality, kind = PYRADIOMICS_CASES[case]
    return _lesions_of(case, Volume.from_sitk(image), label, modality, kind,
                       "pyradiomics 3.1.0 sdist data/ (BSD-3-Clause)")


def _hcc034() -> list[RealLesion]:
    from PIL import Image

    meta = json.loads((HCC / "hcc034_meta.json").read_text())
    grey = np.asarray(Image.open(HCC / "hcc034_baseline.png"), np.float32)
    hu = -115.0 + grey * 350.0 / 255.0        # the README: window C60 / W350 as 8-bit grey
    mask = np.asarray(Image.open(HCC / "hcc034_baseline_mass.png")) > 0
    row_mm, col_mm = (float(v) for v in meta["pixel_spacing_mm"])  # DICOM order: rows, columns
    volume = Volume(hu[None], (2.5, row_mm, col_mm), (0.0, 0.0, float(meta["baseline"]["z_mm"])))
    return _lesions_of("hcc034", volume, mask[None].astype(np.uint8), "CT",
                       "liver: hepatocellular carcinoma, arterial phase (one slice)",
                       "TCIA HCC-TACE-Seg HCC_034 (CC BY 4.0) via guangboyu/hcc-mrecist-reliability")


@lru_cache(maxsize=1)
def shared_lesions() -> tuple[RealLesion, ...]:
    """Every lesion in ``../shared/data/real-lesions``."""
    out: list[RealLesion] = []
    for case in PYRADIOMICS_CASES:
        out += _pyradiomics(case)
    out += _hcc034()
    return tuple(out)


def extra_lesions(manifest: str | os.PathLike[str] | None = None) -> tuple[RealLesion, ...]:
    """Lesions of a manifest outside the repository (``RESPONSE_TOOL_EXTRA_LESIONS``), if any.

    The manifest is a JSON list of lesions: ``id``, ``modality``, ``organ_type``, ``image`` and
    ``mask`` (paths relative to the manifest; NRRD / NIfTI; mask label 1 = this lesion), ``source``
    and ``licence``. The reference diameters are recomputed here from the mask."""
    path = manifest or os.environ.get("RESPONSE_TOOL_EXTRA_LESIONS")
    if not path:
        return ()
    path = Path(path)
    out: list[RealLesion] = []
    for entry in json.loads(path.read_text()):
        if entry.get("reference_kind") != "mask":
            continue
        volume = Volume.from_sitk(sitk.ReadImage(str(path.parent / entry["image"])))
        label = sitk.GetArrayFromImage(sitk.ReadImage(str(path.parent / entry["mask"])))
        mask = label == 1
        if not mask.any():
            continue
        long_mm, short_mm, z = reference_diameters(mask, volume.spacing_zyx_mm)
        source = entry.get("source", {})
        out.append(RealLesion(
            entry["id"], entry["modality"], entry.get("organ_type", ""), volume, mask, long_mm,
            short_mm, z, f"{source.get('dataset', source)} ({entry.get('licence', '?')})"))
    return tuple(out)


def shared_lesion(lesion_id: str) -> RealLesion:
    return next(x for x in shared_lesions() if x.lesion_id == lesion_id)
