"""The lesion masks kept with a read (accepted click-to-measure proposals) as DICOM SEG, beside
the time point's SR (docs/exchange.md, "SEG: lesion masks").

One SEG per time point and series with masks (the series each lesion was measured on: usually
one per time point), BINARY (highdicom, through :mod:`.seg`'s frames and writer), with for each
lesion:

* a segment labelled with the lesion id (``T1``): the whole lesion (every label > 0), SCT
  49755003 *Morphologically abnormal structure* / SCT 108369006 *Tumor*; its Tracking ID is the
  lesion id and its Tracking UID the one the SR's measurement group of that lesion has, so a
  viewer links the mask to the lesion's lines and follows it across time points;
* a segment ``T1 enhancing`` when the mask has an arterially enhancing part: the viable tumour
  of mRECIST, inside the lesion's segment (BINARY segments may overlap, as the burden SEG's
  liver and tumour do). No standard code names the enhancing part of a tumour, so it is a
  private concept (:data:`VIABLE_TUMOUR`), as the SR's viable long axis is; its Tracking ID is
  ``T1 enhancing``, with a Tracking UID of its own.

Both are *semi-automatic* (the reader clicked, the algorithm segmented, the reader accepted),
by :data:`ALGORITHM`. Frames run from the first slice any mask of the series touches to the last
(the empty ones too: a regular grid), each referencing its acquired image. A series with a missing
slice where a mask lies cannot reference an image there: that SEG is left out with a note (the SRs
and the other SEGs are written; the masks stay in the read).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from response_tool import __version__
from response_tool.domain.model import Read

from .codes import private
from .images import ImageIndex
from .seg import binary_seg, check_grid, slice_images, source_images
from .sr_export import site_code, tracking_uid

#: The viable (arterially enhancing) part of a tumour (mRECIST). No SCT concept names it (SCT
#: has Tumor and Necrosis, not the enhancing remainder): a private concept, as the SR's
#: :data:`~.codes.VIABLE_LONG_AXIS` is.
VIABLE_TUMOUR = private("RT-VIABLE-TUMOUR", "Viable tumour (arterially enhancing, mRECIST)")
#: How the masks were made, as the SEG says (Segment Algorithm Name / Family / Version): the
#: click-to-measure segmentation grows the lesion from the click against its local surroundings
#: (DCM CID 7162 "Neighborhood analysis"). Keep it in step with response_tool.reading.measure.
ALGORITHM_NAME = "response-tool click-to-measure"
#: The SEG series number (the burden outlines' SEG is 950).
SERIES_NUMBER = 951
#: Display colours: the lesion as its total diameter is drawn (yellow), the enhancing part as
#: the viable diameter (red).
LESION_RGB, ENHANCING_RGB = (255, 215, 0), (230, 40, 40)


def _algorithm() -> Any:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    return hd.AlgorithmIdentificationSequence(
        name=ALGORITHM_NAME, family=codes.cid7162.NeighborhoodAnalysis, version=__version__)


def _descriptions(read: Read, lesion_ids: Sequence[str], enhancing: Sequence[bool]) -> list[Any]:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    algorithm = _algorithm()
    semi = hd.seg.SegmentAlgorithmTypeValues.SEMIAUTOMATIC
    out: list[Any] = []
    for lesion_id, with_enhancing in zip(lesion_ids, enhancing, strict=True):
        site = [site_code(read.lesion(lesion_id).organ)]
        out.append(hd.seg.SegmentDescription(
            len(out) + 1, lesion_id, codes.SCT.MorphologicallyAbnormalStructure, codes.SCT.Tumor,
            semi, algorithm, tracking_uid=tracking_uid(read.patient_id, read.reader_id, lesion_id),
            tracking_id=lesion_id, anatomic_regions=site,
            display_color=hd.color.CIELabColor.from_rgb(*LESION_RGB)))
        if with_enhancing:
            part = f"{lesion_id} enhancing"
            out.append(hd.seg.SegmentDescription(
                len(out) + 1, part, codes.SCT.MorphologicallyAbnormalStructure, VIABLE_TUMOUR,
                semi, algorithm, tracking_uid=tracking_uid(read.patient_id, read.reader_id, part),
                tracking_id=part, anatomic_regions=site,
                display_color=hd.color.CIELabColor.from_rgb(*ENHANCING_RGB)))
    return out


def lesion_masks_seg(read: Read, masks: Sequence[Any], images: ImageIndex) -> Any:
    """The SEG of ``masks`` (:class:`~response_tool.reading._lesion_masks.LesionSegmentation`
    of one time point, all on one series) of ``read``. Raises ResponseToolError when a mask does
    not lie on its series' grid or the series is not under ``images``; an interpolated plane
    where a mask lies too (see :func:`lesion_segs`, which notes it instead)."""
    from response_tool.reading.measure import ENHANCING_LABEL

    (series_uid,) = {m.series_uid for m in masks}
    date = masks[0].date
    boxes = []
    for m in sorted(masks, key=lambda m: read_order(read, m.lesion_id)):
        check_grid(m.mask.shape_zyx, series_uid, images, f"the mask of {m.lesion_id} ({date})")
        boxes.append((m.lesion_id, m.mask))
    ks = _slices([mask for _, mask in boxes])
    sources = source_images(series_uid, images, ks, f"the lesion masks of {date}",
                            "the masks stay in the read")
    info = images.series(series_uid, "lesion masks").info
    enhancing = [bool((mask.labels == ENHANCING_LABEL).any()) for _, mask in boxes]
    planes = []  # one (slices, rows, columns) boolean volume per segment, over ks
    for (_, mask), with_enhancing in zip(boxes, enhancing, strict=True):
        full = np.zeros((len(ks), info.rows, info.columns), np.uint8)
        z0, y0, x0 = mask.offset_zyx
        ny, nx = mask.labels.shape[1:]
        for i, k in enumerate(ks):  # the box's slices outside ks are empty
            if z0 <= k < z0 + len(mask.labels):
                full[i, y0:y0 + ny, x0:x0 + nx] = mask.labels[k - z0]
        planes.append(full > 0)
        if with_enhancing:
            planes.append(full == ENHANCING_LABEL)
    frames = np.stack(planes, axis=-1)
    return binary_seg(sources, frames, _descriptions(read, [lid for lid, _ in boxes], enhancing),
                      f"Lesion masks {date}", SERIES_NUMBER)


def _slices(masks: Sequence[Any]) -> list[int]:
    """The series' slices from the first any mask has a voxel on to the last (a mask's box may
    hold empty slices: the region the lesion was searched in)."""
    found = [int(m.offset_zyx[0]) + int(z) for m in masks
             for z in np.flatnonzero(np.asarray(m.labels).reshape(len(m.labels), -1).any(axis=1))]
    return list(range(min(found), max(found) + 1))


def read_order(read: Read, lesion_id: str) -> int:
    """A lesion's place in the read (the order the reader added them: T1 before T2)."""
    return [les.lesion_id for les in read.lesions].index(lesion_id)


def lesion_segs(read: Read, masks: Sequence[Any], images: ImageIndex
                ) -> tuple[list[tuple[str, str, Any]], list[str]]:
    """The SEGs of a read's lesion masks: (date, series UID, SEG dataset) per time point and
    series, and the notes (a SEG left out: a mask on a slice the series does not have)."""
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for m in masks:
        groups[(m.date, m.series_uid)].append(m)
    out, notes = [], []
    for (date, series_uid), found in sorted(groups.items()):
        ks = _slices([m.mask for m in found])
        missing = [k for k, (_, on_plane) in zip(ks, slice_images(
            series_uid, images, ks, f"the lesion masks of {date}"), strict=True) if not on_plane]
        if missing:
            notes.append(f"the lesion masks of {date} ({', '.join(m.lesion_id for m in found)}) "
                         f"were not exported as SEG: slice {missing[0]} of series {series_uid} "
                         "is an interpolated plane (the series has a missing slice there) and a "
                         "SEG frame needs an acquired image; the masks stay in the read")
            continue
        out.append((date, series_uid, lesion_masks_seg(read, found, images)))
    return out, notes


__all__ = ["ALGORITHM_NAME", "VIABLE_TUMOUR", "lesion_masks_seg", "lesion_segs"]
