"""``dicom-export`` and ``store-export``: reads of the store written out, whole or not at all."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from response_tool.domain.errors import ResponseToolError

#: marks a folder written by ``response-tool dicom-export`` (it lists the files it wrote)
MARKER = ".response-tool-dicom-export"


def select_reads(store: Any, patient: str | None = None, reader: str | None = None) -> list[Any]:
    keys = [k for k in store.reads() if (patient is None or k.patient_id == patient)
            and (reader is None or k.reader_id == reader)]
    if not keys:
        which = " and ".join(f"{w} {v}" for w, v in (("patient", patient), ("reader", reader)) if v)
        raise ResponseToolError(f"{store.path}: no read{f' of {which}' if which else ''} in the "
                                "store; check --patient / --reader (or the store file)")
    return keys


def dicom_export(store: Any, images: str | os.PathLike[str], out: str | os.PathLike[str], *,
                 patient: str | None = None, reader: str | None = None,
                 follow_symlinks: bool = False) -> tuple[list[Path], list[str]]:
    """One SR per read and time point under ``out`` (a folder this command owns), a SEG and a
    NIfTI of the burden outlines of each time point that has them, and a SEG of the lesion masks
    of each time point that has them (accepted click-to-measure proposals); returns the files
    written and the notes."""
    from response_tool.io.output import OwnedFolder

    from .images import ImageIndex
    from .lesion_masks import lesion_segs
    from .seg import outlines_seg, write_nifti
    from .sr_export import sr_file_name, timepoint_srs

    keys = select_reads(store, patient, reader)
    index = ImageIndex(images)
    built: list[tuple[str, Any]] = []
    notes: list[str] = []
    for key in keys:
        read = store.load(key)
        datasets, read_notes = timepoint_srs(read, index)
        notes += read_notes
        built += [(sr_file_name(read, k, date), ds)
                  for k, (date, ds) in enumerate(zip(read.dates, datasets, strict=True))
                  if ds is not None]
        for outline in store.burden_outlines(key):  # the burden outlines: SEG and NIfTI
            k = read.dates.index(outline["date"]) if outline["date"] in read.dates else 0
            stem = sr_file_name(read, k, outline["date"]).removesuffix("_SR.dcm")
            labels, series = outline["labels"], outline["series_uid"]
            built.append((f"{stem}_burden_SEG.dcm", outlines_seg(labels, series, index)))
            built.append((f"{stem}_burden_outlines.nii.gz",
                          lambda path, a=labels, u=series: write_nifti(a, u, index, path)))
        segs, seg_notes = lesion_segs(read, store.lesion_segmentations(key), index)
        notes += seg_notes
        per_date: dict[str, int] = {}
        for date, _series, seg in segs:  # usually one series a time point; else numbered
            stem = sr_file_name(read, read.dates.index(date), date).removesuffix("_SR.dcm")
            n = per_date[date] = per_date.get(date, 0) + 1
            built.append((f"{stem}_lesions{'' if n == 1 else f'_{n}'}_SEG.dcm", seg))
    folder = OwnedFolder(out, marker=MARKER, command="response-tool dicom-export",
                         inputs={"--images": images, "--store": store.path},
                         follow_symlinks=follow_symlinks)
    staging = folder.stage()
    try:
        for name, item in built:
            if callable(item):
                item(staging / name)
            else:
                item.save_as(staging / name, enforce_file_format=True)
        folder.commit()
    except BaseException:
        folder.discard()
        raise
    return [Path(out) / name for name, _ in built], notes


def store_export(store: Any, out: str | os.PathLike[str], *, patient: str | None = None,
                 reader: str | None = None, follow_symlinks: bool = False) -> Sequence[Any]:
    """The engine's measurements CSV of the chosen reads (docs/measurements-csv.md)."""
    from response_tool.io.output import Output, check_files

    keys = select_reads(store, patient, reader)
    (target,) = check_files([Output(out, "-o", "measurements.csv")], {"--store": store.path},
                            follow_symlinks=follow_symlinks)
    store.export_measurements_csv(target, keys)
    return keys
