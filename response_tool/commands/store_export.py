"""``response-tool store-export --store STORE -o MEASUREMENTS.csv``: the engine's input table.

The reads of the store (or of --patient / --reader) as the measurements CSV ``assess`` reads
(docs/measurements-csv.md), written whole or not at all.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "store-export", help="reads of a store as the measurements CSV assess reads",
        description="Write the reads of a read store as the measurements CSV (the input schema of "
                    "`response-tool assess`, docs/measurements-csv.md).")
    from response_tool.commands.dicom_export import add_store_selection

    add_store_selection(p, "the measurements CSV to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from response_tool.commands.dicom_export import _existing
    from response_tool.exchange.export import store_export
    from response_tool.reading.store import ReadStore

    with ReadStore(_existing(args.store)) as store:
        keys = store_export(store, args.out, patient=args.patient, reader=args.reader,
                            follow_symlinks=args.follow_symlinks)
    print(f"{len(keys)} read(s) written to {args.out}")
    return 0
