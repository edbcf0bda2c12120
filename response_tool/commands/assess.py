"""``response-tool assess MEASUREMENTS.csv -o RESPONSES.csv [--bor BOR.csv] …``, or
``assess --from sdtm TU.csv TR.csv …`` (CDISC SDTM in), ``--to sdtm`` (SDTM TU / TR / RS and ADaM
ADRS out, beside -o).

Its outputs — RESPONSES.csv, BOR.csv and the baseline warnings CSV (and the SDTM tables) — are
checked before the assessment (none may be an input, another output, a folder, a link, a device;
their folders must exist and be writable) and written as one set (:mod:`response_tool.io.output`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._options import add_follow_symlinks


def add_parser(sub: Any) -> None:
    from response_tool.criteria import CRITERIA
    from response_tool.criteria.options import AssessmentOptions

    d = AssessmentOptions()
    p = sub.add_parser(
        "assess", help="RECIST 1.1 / mRECIST responses from a measurements CSV",
        usage="%(prog)s MEASUREMENTS.csv -o RESPONSES.csv [options]\n"
              "       %(prog)s --from sdtm TU.csv TR.csv -o RESPONSES.csv [options]",
        description="Assess every patient and reader of a measurements CSV (docs/measurements-csv.md)"
                    " — or of CDISC SDTM TU + TR tables with --from sdtm (one read per subject x "
                    "evaluator, docs/exchange.md) — and write one row per patient × reader × "
                    "criterion × time point, and optionally the best overall responses; --to sdtm "
                    "also writes them as SDTM TU / TR / RS and ADaM ADRS. Invalid input: every "
                    "problem listed with its line, exit code 2, nothing written.")
    p.add_argument("measurements", nargs="+", metavar="INPUT",
                   help="the measurements CSV; with --from sdtm: the TU and the TR domain (CSV)")
    p.add_argument("--from", dest="input_format", choices=("measurements", "sdtm"),
                   default="measurements",
                   help="what INPUT is: measurements (default: the measurements CSV) or sdtm (TU.csv "
                        "TR.csv; partial TRDTC dates need --impute-partial-dates, e.g. last as "
                        "admiralonco)")
    p.add_argument("--to", dest="output_formats", action="append", choices=("sdtm",),
                   help="sdtm: also write SDTM TU / TR / RS and ADaM ADRS (OVR, BOR, CBOR) beside "
                        "-o, named after it: RESPONSES.tu.csv, .tr.csv, .rs.csv, .adrs.csv")
    p.add_argument("--studyid", default="STUDY",
                   help="with --to sdtm: the STUDYID of every row (default STUDY)")
    p.add_argument("-o", "--output", required=True, help="RESPONSES.csv to write")
    p.add_argument("--bor", help="BOR.csv to write (best overall response, without and with "
                                 "confirmation)")
    # treatment cycles (issue 13; response_tool/report/cycles.py, a layer on top of assess())
    p.add_argument("--treatments", metavar="TREATMENTS.csv",
                   help="patient_id, treatment_date, kind: also assess each treatment cycle "
                        "against its own pre-treatment scan (docs/research.md)")
    p.add_argument("--cycles", metavar="CYCLES.csv",
                   help="with --treatments: the per-cycle table to write (default: beside -o, "
                        "RESPONSES.cycles.csv)")
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
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="processes to assess with (whole patients per process; the same result "
                        "for any N; default 1)")
    p.add_argument("--impute-partial-dates", choices=("first", "mid", "last"),
                   help="complete a partial date (2014-02, 2014: ISO 8601 / SDTM) to the first, "
                        "middle (15th; 1 July) or last day of its month (year); the rows completed "
                        "are listed (default: a partial date is refused)")
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
             "(admiralonco)"),
            ("equivocal_new_lesion_backdates_pd", "a new lesion first seen equivocal dates the "
             "BOR's PD from its first observation (RECIST 1.1 4.3.2)")):
        readings.add_argument("--" + name.replace("_", "-"), dest=name,
                              action=argparse.BooleanOptionalAction, default=getattr(d, name),
                              help=f"{text} (default: {'yes' if getattr(d, name) else 'no'})")
    p.add_argument("--burden", help="burden CSV: HTB per patient and time point (patient_id, "
                                    "[reader_id], timepoint_date, htb_method, htb_pct or "
                                    "htb_category); adds htb_pct, htb_category, htb_method")
    p.add_argument("--htb-scheme", default="liu2022",
                   help="HTB category scheme for --burden: liu2022, touloupas2021, promid, "
                        "involvement50 or custom:E1,E2,... (default liu2022)")
    out = p.add_argument_group("outputs (docs/criteria.md, Outputs)")
    out.add_argument("--warnings", metavar="FILE",
                     help="CSV of every warning: baseline checks and new lesions counted as "
                          "equivocal (default: beside -o, named after it: "
                          "RESPONSES.warnings.csv; written on every run, header only when none)")
    out.add_argument("--pseudonymise", metavar="KEY",
                     help="replace every patient id by P- and 12 hex digits of HMAC-SHA256(KEY, "
                          "id): the same in every file and run with this key. KEY may be "
                          "file:PATH or env:NAME to keep it off the command line")
    out.add_argument("--shift-dates", type=int, metavar="DAYS",
                     help="move every date of every patient by DAYS days (negative: earlier); "
                          "intervals, hence responses, are unchanged")
    add_follow_symlinks(out)
    p.set_defaults(func=run)


def warnings_path(output: str) -> Path:
    """The default warnings CSV of ``-o OUTPUT``: beside it, ``<stem>.warnings.csv``."""
    path = Path(output)
    if not path.name:  # "." or "/": -o is refused first, as a folder
        return path / "warnings.csv"
    return path.with_name(f"{path.stem if path.suffix else path.name}.warnings.csv")


SDTM_TABLES = ("tu", "tr", "rs", "adrs")


def sdtm_paths(output: str) -> list[Path]:
    """The SDTM tables of ``--to sdtm``: beside -o, ``<stem>.tu.csv`` … ``<stem>.adrs.csv``."""
    path = Path(output)
    stem = path.stem if path.suffix else path.name
    return [path.with_name(f"{stem}.{name}.csv") for name in SDTM_TABLES]


def _inputs(args: argparse.Namespace) -> dict[str, Any]:
    """The input files by what they are (for the output checks), after checking their number."""
    from response_tool.domain.errors import AssessmentOptionError

    given = list(args.measurements)
    if args.input_format == "sdtm":
        if len(given) != 2:
            raise AssessmentOptionError(f"--from sdtm takes two files, TU.csv TR.csv; got "
                                        f"{len(given)}: {' '.join(given)}")
        if args.treatments:
            raise AssessmentOptionError("--treatments reads a measurements CSV: with SDTM, write "
                                        "one first (response-tool sdtm import TU.csv TR.csv -o "
                                        "MEASUREMENTS.csv) and assess it")
        return {"TU": given[0], "TR": given[1]}
    if len(given) != 1:
        raise AssessmentOptionError(f"assess takes one measurements CSV; got {len(given)}: "
                                    f"{' '.join(given)} (SDTM TU and TR: add --from sdtm)")
    return {"measurements CSV": given[0]}


def _measurements(args: argparse.Namespace, inputs: dict[str, Any]) -> Any:
    """What ``assess()`` takes: the CSV path, or the table read from SDTM TU + TR (checked here
    under their names, so a problem names them)."""
    if args.input_format != "sdtm":
        return inputs["measurements CSV"]
    from response_tool.domain.measurements import validate
    from response_tool.exchange.sdtm import read_sdtm

    inp = read_sdtm(inputs["TU"], inputs["TR"])
    for note in inp.notes:
        print(f"note: {note}", file=sys.stderr)
    validate(inp.frame, f"the measurements read from {inputs['TU']} + {inputs['TR']} (line "
                        "numbers: of what `response-tool sdtm import` writes)",
             args.impute_partial_dates)
    return inp.frame


def _sdtm_tables(args: argparse.Namespace, measurements: Any, raw: Any, export: Any
                 ) -> dict[str, Any]:
    from response_tool.domain.measurements import validate
    from response_tool.exchange.sdtm_out import assessed_tables
    from response_tool.io.measurements_csv import read_measurements

    frame = (validate(measurements, "measurements", args.impute_partial_dates)
             if args.input_format == "sdtm" else
             read_measurements(measurements, args.impute_partial_dates))
    return assessed_tables(frame, raw, args.studyid, export)


def run(args: argparse.Namespace) -> int:
    from response_tool.assessment import AssessmentOptions, assess
    from response_tool.io.export import ExportOptions
    from response_tool.io.output import Output, check_files

    inputs = _inputs(args)
    to_sdtm = "sdtm" in (args.output_formats or ())
    if to_sdtm and args.treatments:
        from response_tool.domain.errors import AssessmentOptionError
        raise AssessmentOptionError("--to sdtm and --treatments are not written together yet: "
                                    "run assess twice, or response-tool sdtm export")

    export = ExportOptions.from_cli(args.pseudonymise, args.shift_dates)
    warnings = Path(args.warnings) if args.warnings else warnings_path(args.output)
    outputs = [Output(args.output, "-o", "responses.csv")]
    if args.bor:
        outputs.append(Output(args.bor, "--bor", "bor.csv"))
    if args.cycles and not args.treatments:  # treatment cycles (issue 13)
        from response_tool.domain.errors import AssessmentOptionError
        raise AssessmentOptionError("--cycles needs --treatments TREATMENTS.csv")
    if args.treatments:  # treatment cycles (issue 13): the per-cycle table joins the set
        outputs.append(Output(args.cycles or Path(args.output).with_suffix(".cycles.csv"),
                              "--cycles", "cycles.csv"))
    outputs.append(Output(warnings, "--warnings" if args.warnings else
                          "the warnings CSV (beside -o by default; choose it with --warnings FILE)",
                          "warnings.csv"))
    if to_sdtm:
        outputs += [Output(path, f"the SDTM {name.upper()} table of --to sdtm (beside -o)",
                           f"{name}.csv") for name, path in zip(SDTM_TABLES,
                                                                sdtm_paths(args.output),
                                                                strict=True)]
    targets = check_files(outputs, {**inputs, "--burden": args.burden,
                                    "--treatments": args.treatments},
                          follow_symlinks=args.follow_symlinks)
    measurements = _measurements(args, inputs)
    protocol = AssessmentOptions(
        criteria=tuple(dict.fromkeys(args.criteria or ("recist1.1", "mrecist"))),
        confirm_weeks=args.confirm_weeks, sd_min_weeks=args.sd_min_weeks,
        ne_tolerated=args.ne_tolerated, too_small_mm=args.too_small_mm,
        mrecist_pd_min_mm=args.mrecist_pd_min_mm,
        normal_nodes_cr_over_sum_pd=args.normal_nodes_cr_over_sum_pd,
        mrecist_recist_floor_without_enhancement=args.mrecist_recist_floor_without_enhancement,
        pr_carried_forward=args.pr_carried_forward,
        sd_min_for_non_cr_non_pd=args.sd_min_for_non_cr_non_pd,
        equivocal_new_lesion_backdates_pd=args.equivocal_new_lesion_backdates_pd)
    raw = assess(measurements, protocol, burden=args.burden, htb_scheme=args.htb_scheme,
                 impute_partial_dates=args.impute_partial_dates, jobs=max(1, args.jobs))
    result = raw.exported(export)
    if to_sdtm:
        targets, sdtm_targets = targets[:-len(SDTM_TABLES)], targets[-len(SDTM_TABLES):]
    responses, bor = targets[0], (targets[1] if args.bor else None)
    if args.treatments:  # treatment cycles (issue 13): written with the others, as one set
        from response_tool.report.cycles import write_with_cycles
        print(write_with_cycles(result, measurements, args.treatments, targets[-2],
                                [responses, bor, targets[-1]], export, protocol=protocol,
                                impute_partial_dates=args.impute_partial_dates), file=sys.stderr)
    elif to_sdtm:  # the SDTM tables join the set: every file or none
        from response_tool.io.csv_out import stage_tables
        from response_tool.io.output import FileSet

        tables = _sdtm_tables(args, measurements, raw, export)
        with FileSet() as files:
            result.stage_csv(files, responses, bor, targets[-1])
            stage_tables(files, [(tables[n], p) for n, p in zip(SDTM_TABLES, sdtm_targets,
                                                                strict=True)])
    else:
        result.to_csv(responses, bor, targets[-1])
    print(result.summary())
    n = len(result.warnings) + len(result.new_lesion_warnings)
    print(f"wrote {args.output}" + (f", {args.bor}" if args.bor else "") + f" and {warnings} "
          f"({n} warning(s){', all listed there' if n else ''})"
          + (f"; SDTM: {', '.join(str(p) for p in sdtm_paths(args.output))}" if to_sdtm else ""),
          file=sys.stderr)
    return 0
