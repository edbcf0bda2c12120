"""``response-tool dicom-import FILES… --store STORE [--images FOLDER]``: SR TID 1500 into reads.

Each SR (ours, or a TID 1500 from OHIF, 3D Slicer, dcmqi) becomes one time point of a read in the
store: its measurement groups with a length or a lesion role become lesions (the tracking id their
id), their diameters, statuses and sites measurements. Everything the SR holds that does not
become part of the read is printed (never dropped unseen). With --images (the patient's DICOM
folder), the lines are placed back in patient space with their phase and slice.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "dicom-import", help="DICOM SR TID 1500 files into reads of a store",
        description="Import TID 1500 measurement reports (ours, OHIF, 3D Slicer, dcmqi) into a "
                    "read store; what is not imported is listed (docs/exchange.md).")
    p.add_argument("files", nargs="+", help="SR files")
    p.add_argument("--store", required=True, help="the read store (created if new)")
    p.add_argument("--images", help="the patient's DICOM folder: places the lines on the images")
    p.add_argument("--reader", help="the reader id (default: the SR's person observer)")
    p.add_argument("--replace", action="store_true",
                   help="write the SR's measurements over different ones already in the store")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from response_tool.exchange.images import ImageIndex
    from response_tool.exchange.sr_import import read_sr
    from response_tool.exchange.store_io import import_into_store
    from response_tool.reading.store import ReadStore

    index = ImageIndex(args.images) if args.images else None
    imports = [read_sr(f, index, args.reader) for f in args.files]
    with ReadStore(args.store) as store:
        lines = import_into_store(store, imports, replace=args.replace)
    for imp in imports:
        for note in imp.notes:
            print(f"note: {note}")
    for line in lines:
        print(line)
    return 0
