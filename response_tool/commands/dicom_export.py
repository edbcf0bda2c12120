"""``response-tool dicom-export --store STORE --images PATIENT_FOLDER -o DIR``: reads as DICOM SR.

One Comprehensive 3D SR (TID 1500) per read and time point, its lines placed on the images of
PATIENT_FOLDER, a DICOM SEG + NIfTI of the burden outlines where a time point has them, and a
DICOM SEG of the lesion masks (accepted click-to-measure proposals) where it has them
(docs/exchange.md). DIR is a new or empty folder, or one this command wrote before (only its own
files are replaced); all the files are written or none.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._options import add_follow_symlinks


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "dicom-export", help="reads of a store as DICOM SR TID 1500 (one per time point)",
        description="Write each read of the store (or of --patient / --reader) as one "
                    "Comprehensive 3D SR per time point: lesions as measurement groups with their "
                    "tracking id, diameters with their lines on the source images, role, status, "
                    "site, and the RECIST 1.1 / mRECIST responses; the burden outlines as DICOM SEG "
                    "(liver and tumour segments) and NIfTI; the lesion masks kept with the read as "
                    "DICOM SEG (a segment per lesion and its enhancing part; docs/exchange.md).")
    p.add_argument("--images", required=True, help="the patient's DICOM folder (the read's series)")
    add_store_selection(p, "output folder")
    p.set_defaults(func=run)


def add_store_selection(p: Any, output: str) -> None:
    """The arguments every command reading a store's reads out takes (dicom-export, store-export)."""
    p.add_argument("--store", required=True, help="the read store (reads.sqlite)")
    p.add_argument("-o", "--out", required=True, help=output)
    p.add_argument("--patient", help="only this patient's reads")
    p.add_argument("--reader", help="only this reader's reads")
    add_follow_symlinks(p)


def run(args: argparse.Namespace) -> int:
    from response_tool.exchange.export import dicom_export
    from response_tool.reading.store import ReadStore

    with ReadStore(_existing(args.store)) as store:
        files, notes = dicom_export(store, args.images, args.out, patient=args.patient,
                                    reader=args.reader, follow_symlinks=args.follow_symlinks)
    for note in notes:
        print(f"note: {note}")
    print(f"{len(files)} file(s) written to {args.out}")
    for f in files:
        print(f"  {f.name}")
    return 0


def _existing(path: str) -> str:
    import os

    from response_tool.domain.errors import StoreError

    if not os.path.isfile(path):
        raise StoreError(f"{path}: no such read store; give the reads.sqlite the reads are in")
    return path
