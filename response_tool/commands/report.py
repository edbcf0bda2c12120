"""``response-tool report RESPONSES.csv [--bor BOR.csv] [--clinical CLINICAL.csv] -o DIR``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from response_tool.io.export import ExportOptions
from response_tool.report import build_report

STEPS = ("response distribution", "RECIST 1.1 × mRECIST", "waterfall and spider plots",
         "survival", "inter-reader agreement")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="cohort report: response tables, RECIST x mRECIST, waterfall / spider / "
                       "Sankey plots, survival by response and HTB (HTML + PNG/SVG + CSV)",
        description="Write DIR/index.html with every table (also as CSV in DIR/tables) and figure "
                    "(PNG and SVG in DIR/figures): response distribution with ORR / DCR and exact "
                    "CIs per criterion, the RECIST 1.1 x mRECIST cross-table with kappa and a "
                    "Sankey diagram, waterfall and spider plots, and with --clinical Kaplan-Meier "
                    "curves of responders vs non-responders and per category (log-rank p, median "
                    "with 95 %% CI), by baseline HTB when the responses carry it, and inter-reader "
                    "agreement when there are several readers (docs/report.md).")
    p.add_argument("responses", help="RESPONSES.csv from `response-tool assess`")
    p.add_argument("-o", "--output", required=True,
                   help="folder to write: a new or empty folder, or one an earlier `report` wrote "
                        "(only its own files are replaced; any other folder is refused)")
    p.add_argument("--bor", help="BOR.csv from `response-tool assess --bor`: categories are the "
                                 "best overall responses (default: the response at --followup)")
    p.add_argument("--confirmed", action="store_true", help="with --bor: the confirmed BOR")
    p.add_argument("--followup", type=int, default=1, metavar="K",
                   help="without --bor: categorise by the overall response at follow-up K "
                        "(default 1)")
    p.add_argument("--clinical", help="CLINICAL.csv: patient_id, os_months, os_event, pfs_months, "
                                      "pfs_event (event 1 = died / progressed, 0 = censored)")
    p.add_argument("--reader", help="reader whose read the tables use (default: ADJ if present, "
                                    "else the first reader)")
    p.add_argument("--agreement-boot", type=int, default=200,
                   help="bootstrap samples for the agreement CIs (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pseudonymise", metavar="KEY",
                   help="patient ids of every input replaced by P- and 12 hex digits of "
                        "HMAC-SHA256(KEY, id), as `assess --pseudonymise KEY` does (ids already "
                        "pseudonymised are kept); KEY may be file:PATH or env:NAME")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="an -o that is a symbolic link writes the folder it points to (default: "
                        "refused)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    export = ExportOptions.from_cli(args.pseudonymise)
    bar = tqdm(total=len(STEPS), desc="report", unit="step", file=sys.stderr, leave=False,
               disable=None)

    def progress(step: str) -> None:
        bar.set_postfix_str(step)
        bar.update(1)

    try:
        report = build_report(args.responses, args.output, bor=args.bor, clinical=args.clinical,
                              reader=args.reader, followup=args.followup, confirmed=args.confirmed,
                              agreement_boot=args.agreement_boot, seed=args.seed,
                              progress=progress, export=export,
                              follow_symlinks=args.follow_symlinks)
    finally:
        bar.close()
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {report.index} ({len(report.figures)} figures, {len(report.tables)} tables)")
    return 0
