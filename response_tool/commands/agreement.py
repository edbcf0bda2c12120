"""``response-tool agreement RESPONSES.csv --criterion recist1.1|mrecist [--followup K | --bor BOR.csv]``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from response_tool.domain.vocabulary import Criterion


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "agreement", help="inter-reader agreement (Fleiss / Cohen kappa, Gwet AC1, ICC, "
                          "Bland-Altman) from a multi-reader responses CSV",
        description="Compare the readers of RESPONSES.csv (written by `response-tool assess`) per "
                    "patient: the overall response at follow-up K, or the best overall response "
                    "from BOR.csv, on the scale CR < PR < SD < PD (NON-CR/NON-PD counts as SD; "
                    "patients with NE or not read by every reader are dropped and counted). "
                    "Reports Fleiss kappa and Gwet AC1 over all readers, Cohen kappa (unweighted "
                    "and linearly weighted) per reader pair, the same for CR vs non-CR, CR+PR vs "
                    "SD+PD and PD vs non-PD, seeded bootstrap 95 % CIs, and for the sums ICC(2,1) "
                    "and Bland-Altman limits (docs/research.md). The adjudicated reader ADJ is "
                    "left out unless named with --readers.")
    p.add_argument("responses", help="RESPONSES.csv from `response-tool assess` (several readers)")
    p.add_argument("--criterion", choices=[c.value for c in Criterion], default="recist1.1",
                   help="criterion to compare (default recist1.1)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--followup", type=int, default=1, metavar="K",
                       help="compare the overall response at the K-th follow-up (default 1)")
    which.add_argument("--bor", metavar="BOR.csv",
                       help="compare the best overall responses in this BOR.csv instead")
    p.add_argument("--confirmed", action="store_true",
                   help="with --bor: compare the confirmed best overall responses")
    p.add_argument("--readers", help="comma-separated reader ids to compare (default: all but ADJ)")
    p.add_argument("--n-boot", type=int, default=1000,
                   help="bootstrap samples for the 95 %% CIs (default 1000; 0 = none)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from response_tool.agreement import agreement, format_text

    readers = [r.strip() for r in args.readers.split(",") if r.strip()] if args.readers else None
    bar = _progress(args.n_boot)
    try:
        result = agreement(args.responses, args.criterion, followup=args.followup, bor=args.bor,
                           confirmed=args.confirmed, readers=readers, n_boot=args.n_boot,
                           seed=args.seed, progress=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    print(json.dumps(result, indent=2) if args.json else format_text(result), end="\n"
          if args.json else "")
    return 0


class _Bar:
    def __init__(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc="bootstrap", unit="sample", file=sys.stderr,
                        leave=False, disable=None)  # None: off when stderr is not a terminal
        self.done = 0

    def update(self, done: int, total: int) -> None:
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        self.bar.close()


def _progress(total: int) -> _Bar | None:
    return _Bar(total) if total > 0 else None
