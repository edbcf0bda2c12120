"""``response-tool sdtm import|export``: CDISC SDTM / ADaM in and out (docs/exchange.md, "CDISC").

``import TU.csv TR.csv -o MEASUREMENTS.csv`` writes the engine's measurements table from SDTM
tumour identification and results (one read per subject × evaluator; partial dates kept as given,
for ``assess --impute-partial-dates``). ``export MEASUREMENTS.csv -o DIR`` assesses them and writes
``tu.csv``, ``tr.csv``, ``rs.csv`` (SDTM) and ``adrs.csv`` (ADaM: OVR, BOR, CBOR) into DIR (a new or
empty folder, or one this command wrote before), all or none.
"""

from __future__ import annotations

import argparse
from typing import Any

MARKER = ".response-tool-sdtm-export"


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sdtm", help="CDISC SDTM TU/TR in; SDTM TU/TR/RS and ADaM ADRS out",
                       description="CDISC SDTM / ADaM in and out (docs/exchange.md, CDISC).")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    i = actions.add_parser("import", help="SDTM TU + TR -> the measurements CSV")
    i.add_argument("tu", help="the TU domain (CSV)")
    i.add_argument("tr", help="the TR domain (CSV)")
    i.add_argument("-o", "--out", required=True, help="the measurements CSV to write")
    e = actions.add_parser("export", help="measurements -> SDTM TU/TR/RS + ADaM ADRS")
    e.add_argument("measurements", help="the measurements CSV")
    e.add_argument("-o", "--out", required=True, help="output folder")
    e.add_argument("--studyid", default="STUDY", help="STUDYID of every row (default STUDY)")
    e.add_argument("--impute-partial-dates", choices=["first", "mid", "last"],
                   help="complete partial dates (2014-02) this way, as assess does")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "import":
        from response_tool.exchange.sdtm import read_sdtm
        from response_tool.io.measurements_csv import write_measurements
        from response_tool.io.output import Output, check_files

        (target,) = check_files([Output(args.out, "-o", "measurements.csv")],
                                {"TU": args.tu, "TR": args.tr})
        inp = read_sdtm(args.tu, args.tr)
        for note in inp.notes:
            print(f"note: {note}")
        write_measurements(inp.frame, target)
        reads = inp.frame.groupby(["patient_id", "reader_id"]).ngroups
        print(f"{len(inp.frame)} measurement(s) of {reads} read(s) written to {args.out}")
        return 0
    from response_tool.assessment import assess
    from response_tool.exchange.sdtm_out import assessed_tables
    from response_tool.io.csv_out import write_table
    from response_tool.io.measurements_csv import read_measurements
    from response_tool.io.output import OwnedFolder

    frame = read_measurements(args.measurements, args.impute_partial_dates)
    result = assess(args.measurements, impute_partial_dates=args.impute_partial_dates)
    tables = assessed_tables(frame, result, args.studyid)
    folder = OwnedFolder(args.out, marker=MARKER, command="response-tool sdtm export",
                         inputs={"MEASUREMENTS": args.measurements})
    staging = folder.stage()
    try:
        for name, table in tables.items():
            write_table(table, staging / f"{name}.csv")
        folder.commit()
    except BaseException:
        folder.discard()
        raise
    print(", ".join(f"{name}.csv {len(t)} rows" for name, t in tables.items())
          + f" written to {args.out}")
    return 0
