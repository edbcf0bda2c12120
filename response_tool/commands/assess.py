"""``response-tool assess MEASUREMENTS.csv -o RESPONSES.csv [--bor BOR.csv] …``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from response_tool.assessment import AssessmentOptions, assess
from response_tool.criteria import CRITERIA


def add_parser(sub: Any) -> None:
    d = AssessmentOptions()
    p = sub.add_parser(
        "assess", help="RECIST 1.1 / mRECIST responses from a measurements CSV",
        description="Assess every patient and reader of a measurements CSV (docs/measurements-csv.md)"
                    " and write one row per patient × reader × criterion × time point, and "
                    "optionally the best overall responses. Invalid input: every problem listed "
                    "with its line, exit code 2, nothing written.")
    p.add_argument("measurements", help="measurements CSV")
    p.add_argument("-o", "--output", required=True, help="RESPONSES.csv to write")
    p.add_argument("--bor", help="BOR.csv to write (best overall response, without and with "
                                 "confirmation)")
    p.add_argument("--criteria", action="append", choices=list(CRITERIA),
                   help="criterion to assess (repeat for both; default: both)")
    p.add_argument("--confirm-weeks", type=float, default=d.confirm_weeks,
                   help=f"weeks between a CR/PR and its confirmation (default {d.confirm_weeks:g})")
    p.add_argument("--sd-min-weeks", type=float, default=d.sd_min_weeks,
                   help=f"minimum weeks from baseline for SD to count (default {d.sd_min_weeks:g})")
    p.add_argument("--ne-tolerated", type=int, default=d.ne_tolerated,
                   help=f"NE assessments allowed between a response and its confirmation "
                        f"(default {d.ne_tolerated})")
    p.add_argument("--too-small-mm", type=float, default=d.too_small_mm,
                   help=f"value of a target too small to measure (default {d.too_small_mm:g} mm)")
    p.add_argument("--mrecist-pd-min-mm", type=float, default=d.mrecist_pd_min_mm,
                   help="absolute increase over the nadir also needed for mRECIST target PD "
                        f"(default {d.mrecist_pd_min_mm:g}: none, as in Lencioni 2010; 5 = RECIST's)")
    readings = p.add_argument_group(
        "readings the texts leave open (docs/criteria.md)",
        "each a documented default with its source; the --no- form takes the other reading")
    for name, text in (
            ("normal_nodes_cr_over_sum_pd", "target nodes all < 10 mm short axis are CR even when "
             "their sum rises >= 20 %% and >= 5 mm (RECIST 1.1 4.4.4)"),
            ("mrecist_recist_floor_without_enhancement", "mRECIST: a read with no enhancing target "
             "keeps RECIST 1.1's 5 mm floor for PD"),
            ("pr_carried_forward", "a PR stays PR while the sum drifts back above -30 %% without PD "
             "(RECIST WG FAQ)"),
            ("sd_min_for_non_cr_non_pd", "the SD minimum duration also applies to NON-CR/NON-PD "
             "(admiralonco)")):
        readings.add_argument("--" + name.replace("_", "-"), dest=name,
                              action=argparse.BooleanOptionalAction, default=getattr(d, name),
                              help=f"{text} (default: {'yes' if getattr(d, name) else 'no'})")
    p.add_argument("--burden", help="burden CSV: HTB per patient and time point (patient_id, "
                                    "[reader_id], timepoint_date, htb_method, htb_pct or "
                                    "htb_category); adds htb_pct, htb_category, htb_method")
    p.add_argument("--htb-scheme", default="liu2022",
                   help="HTB category scheme for --burden: liu2022, touloupas2021, promid, "
                        "involvement50 or custom:E1,E2,... (default liu2022)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    protocol = AssessmentOptions(
        criteria=tuple(dict.fromkeys(args.criteria or ("recist1.1", "mrecist"))),
        confirm_weeks=args.confirm_weeks, sd_min_weeks=args.sd_min_weeks,
        ne_tolerated=args.ne_tolerated, too_small_mm=args.too_small_mm,
        mrecist_pd_min_mm=args.mrecist_pd_min_mm,
        normal_nodes_cr_over_sum_pd=args.normal_nodes_cr_over_sum_pd,
        mrecist_recist_floor_without_enhancement=args.mrecist_recist_floor_without_enhancement,
        pr_carried_forward=args.pr_carried_forward,
        sd_min_for_non_cr_non_pd=args.sd_min_for_non_cr_non_pd)
    result = assess(args.measurements, protocol, burden=args.burden, htb_scheme=args.htb_scheme)
    result.to_csv(args.output, args.bor)
    print(result.summary())
    print(f"wrote {args.output}" + (f" and {args.bor}" if args.bor else ""), file=sys.stderr)
    return 0
