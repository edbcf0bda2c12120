"""``response-tool report RESPONSES.csv [--bor BOR.csv] [--clinical CLINICAL.csv] -o DIR``.

Module-level imports stay light (stdlib and argparse): the report package is imported by
:func:`run`, so that ``response-tool --help`` starts fast."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ._options import add_follow_symlinks


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="cohort report: response tables, RECIST x mRECIST, waterfall / spider / "
                       "Sankey plots, survival by response and HTB (HTML + PNG/SVG + CSV)",
        description="Write DIR/index.html with every table (also as CSV in DIR/tables) and figure "
                    "(PNG and SVG in DIR/figures): response distribution with ORR / DCR and exact "
                    "CIs per criterion, the RECIST 1.1 x mRECIST cross-table with kappa and a "
                    "Sankey diagram, waterfall, spider and swimmer plots and each patient's "
                    "course, and with --clinical Kaplan-Meier curves of responders vs "
                    "non-responders and per category (log-rank p, median with 95 percent CI), "
                    "Cox hazard ratios by response (reference SD) and of the covariates, "
                    "logistic regression of response and Table 1 with --covariates, a landmark "
                    "analysis with --landmark, survival by baseline HTB when the responses carry "
                    "it, and inter-reader agreement when there are several readers "
                    "(docs/research.md).")
    p.add_argument("responses", help="RESPONSES.csv from `response-tool assess`")
    p.add_argument("-o", "--output", required=True,
                   help="folder to write: a new or empty folder, or one an earlier `report` wrote "
                        "(only its own files are replaced; any other folder is refused)")
    p.add_argument("--bor", help="BOR.csv from `response-tool assess --bor`: categories are the "
                                 "best overall responses (default: the response at --followup)")
    p.add_argument("--confirmed", action="store_true",
                   help="with --bor: the confirmed BOR (default: the unconfirmed one; the page "
                        "says which)")
    p.add_argument("--followup", type=int, default=1, metavar="K",
                   help="without --bor: categorise by the overall response at follow-up K "
                        "(default 1)")
    p.add_argument("--clinical", help="CLINICAL.csv: patient_id, os_months, os_event, pfs_months, "
                                      "pfs_event (event 1 = died / progressed, 0 = censored), "
                                      "and any covariate columns")
    p.add_argument("--cycles", metavar="CYCLES.csv",
                   help="the per-cycle table `response-tool assess --treatments` wrote: "
                        "responses per treatment cycle, first vs best response, time to "
                        "progression per cycle")
    p.add_argument("--covariates", metavar="COL[,COL...]", default="",
                   help="clinical columns entered into the Cox and logistic models and Table 1 "
                        "(numeric, or categorical with a reference level: docs/research.md)")
    p.add_argument("--reference", action="append", default=[], metavar="COL=LEVEL",
                   help="the reference level of a categorical covariate (default: the first "
                        "in natural order); repeat for several")
    p.add_argument("--response-reference", default="SD", metavar="CATEGORY",
                   help="the response category the hazard ratios compare to (default SD, as "
                        "Touloupas 2021)")
    p.add_argument("--entry-p", type=float, default=0.1, metavar="P",
                   help="covariates with a univariable p below P enter the multivariable models "
                        "(default 0.1, as Liu 2022 and Xu 2022)")
    p.add_argument("--aic-backward", action="store_true",
                   help="reduce the multivariable logistic model by backward selection on AIC")
    landmark = p.add_mutually_exclusive_group()
    landmark.add_argument("--landmark", type=float, metavar="MONTHS",
                          help="landmark analysis at MONTHS from baseline")
    landmark.add_argument("--landmark-followup", type=int, metavar="K",
                          help="landmark analysis at follow-up K (the median time of the K-th "
                               "follow-up scans)")
    p.add_argument("--reader", help="reader whose read the tables use (default: ADJ if present, "
                                    "else the first reader)")
    p.add_argument("--agreement-boot", type=int, default=200,
                   help="bootstrap samples for the agreement CIs (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pseudonymise", metavar="KEY",
                   help="patient ids of every input replaced by P- and 12 hex digits of "
                        "HMAC-SHA256(KEY, id), as `assess --pseudonymise KEY` does (ids already "
                        "pseudonymised are kept); KEY may be file:PATH or env:NAME")
    add_follow_symlinks(p, "an -o")
    p.set_defaults(func=run)


def _references(values: list[str]) -> dict[str, str]:
    from response_tool.domain.errors import ReportInputError

    out = {}
    for value in values:
        name, sep, level = value.partition("=")
        if not sep or not name.strip() or not level.strip():
            raise ReportInputError(f"--reference {value!r}: give COL=LEVEL, e.g. sex=male")
        out[name.strip()] = level.strip()
    return out


def run(args: argparse.Namespace) -> int:
    from response_tool.io.export import ExportOptions
    from response_tool.report import AnalysisOptions, build_report

    export = ExportOptions.from_cli(args.pseudonymise)
    analysis = AnalysisOptions(
        covariates=tuple(c.strip() for c in args.covariates.split(",") if c.strip()),
        references=_references(args.reference), response_reference=args.response_reference,
        entry_p=args.entry_p, backward_aic=args.aic_backward, landmark_months=args.landmark,
        landmark_followup=args.landmark_followup)
    start = time.perf_counter()

    def progress(step: str) -> None:  # one line per step on stderr: seen in a log as on a TTY
        print(f"report: {step} ({time.perf_counter() - start:.1f} s)", file=sys.stderr,
              flush=True)

    report = build_report(args.responses, args.output, bor=args.bor, clinical=args.clinical,
                          reader=args.reader, followup=args.followup, confirmed=args.confirmed,
                          agreement_boot=args.agreement_boot, seed=args.seed,
                          progress=progress, export=export,
                          follow_symlinks=args.follow_symlinks, analysis=analysis,
                          cycles=args.cycles)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {report.index} ({len(report.figures)} figures, {len(report.tables)} tables)")
    return 0
