"""Bad-input corpus: the CSV inputs of ``assess``, ``agreement`` and ``report``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from corpus import Case, check

HEADER = ("patient_id,reader_id,timepoint_date,lesion_id,role,organ,is_nodal,long_axis_mm,"
          "short_axis_mm,viable_long_axis_mm,status")
GOOD = [
    "P1,R1,2026-01-05,T1,target,liver,false,40,,30,measured",
    "P1,R1,2026-03-02,T1,target,liver,false,30,,10,measured",
]


def measurements(rows: list[str], header: str = HEADER, name: str = "m.csv",
                 encoding: str = "utf-8", extra: tuple[str, ...] = ()) -> Callable[[Path], list[str]]:
    """A case builder: writes the measurements CSV and returns the assess command."""
    def make(tmp: Path) -> list[str]:
        path = tmp / name
        path.write_bytes("\n".join([header, *rows]).encode(encoding) + b"\n")
        return ["assess", str(path), "-o", str(tmp / "responses.csv"), *extra]
    return make


def raw(data: bytes, name: str = "m.csv") -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        (tmp / name).write_bytes(data)
        return ["assess", str(tmp / name), "-o", str(tmp / "responses.csv")]
    return make


def with_row(row: str) -> list[str]:
    return [GOOD[0], row]


def _missing(tmp: Path) -> list[str]:
    return ["assess", str(tmp / "nothing.csv"), "-o", str(tmp / "responses.csv")]


def _folder(tmp: Path) -> list[str]:
    (tmp / "m.csv").mkdir()
    return ["assess", str(tmp / "m.csv"), "-o", str(tmp / "responses.csv")]


def _responses(tmp: Path, text: str, command: str, *extra: str) -> list[str]:
    path = tmp / "responses.csv"
    path.write_text(text, encoding="utf-8")
    if command == "report":
        return ["report", str(path), "-o", str(tmp / "report"), *extra]
    return ["agreement", str(path), "--criterion", "mrecist", *extra]


def _assessed(tmp: Path, readers: int = 1) -> Path:
    rows = [r.replace("R1", f"R{k}") for k in range(1, readers + 1) for r in GOOD]
    (tmp / "m.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    from corpus import run_cli

    assert run_cli(["assess", str(tmp / "m.csv"), "-o", str(tmp / "responses.csv")]).code == 0
    (tmp / "m.csv").unlink()
    return tmp / "responses.csv"


def _one_reader_agreement(tmp: Path) -> list[str]:
    return ["agreement", str(_assessed(tmp)), "--criterion", "mrecist"]


def _clinical(text: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        responses = _assessed(tmp)
        (tmp / "clinical.csv").write_text(text, encoding="utf-8")
        return ["report", str(responses), "--clinical", str(tmp / "clinical.csv"), "-o",
                str(tmp / "report")]
    return make


def _burden(text: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        (tmp / "m.csv").write_text("\n".join([HEADER, *GOOD]) + "\n", encoding="utf-8")
        (tmp / "burden.csv").write_text(text, encoding="utf-8")
        return ["assess", str(tmp / "m.csv"), "--burden", str(tmp / "burden.csv"), "-o",
                str(tmp / "responses.csv")]
    return make


OUT = ("responses.csv",)
VOLUMES = HEADER + ",volume_mm3,enhancing_volume_mm3"
CASES = [
    Case("csv-missing-file", "csv", "measurements CSV that does not exist", _missing,
         "no such file", outputs=OUT, names="nothing.csv"),
    Case("csv-folder", "csv", "a folder given as the measurements CSV", _folder, "is a folder",
         outputs=OUT),
    Case("csv-empty", "csv", "an empty file (0 bytes)", raw(b""), "m.csv", outputs=OUT),
    Case("csv-header-only", "csv", "a header and no rows", measurements([]), "no rows",
         outputs=OUT),
    Case("csv-binary", "csv", "a binary file (a PNG) named .csv",
         raw(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))), "m.csv", outputs=OUT),
    Case("csv-latin1", "csv", "saved as Latin-1 with an accented organ",
         measurements([GOOD[0].replace("liver", "foie é"), GOOD[1]], encoding="latin-1"),
         "utf-8", outputs=OUT),
    Case("csv-semicolon", "csv", "semicolon-separated (a European spreadsheet's CSV)",
         measurements([r.replace(",", ";") for r in GOOD], header=HEADER.replace(",", ";")),
         "separated by semicolons", outputs=OUT),
    Case("csv-missing-column", "csv", "no status column",
         measurements([r.rsplit(",", 1)[0] for r in GOOD], header=HEADER.rsplit(",", 1)[0]),
         "status", outputs=OUT),
    Case("csv-bad-date", "csv", "a date written 05/01/2026",
         measurements(with_row("P1,R1,02/03/2026,T1,target,liver,false,30,,10,measured")),
         "not a date", outputs=OUT),
    Case("csv-negative", "csv", "a negative diameter",
         measurements(with_row("P1,R1,2026-03-02,T1,target,liver,false,-30,,10,measured")),
         "negative", outputs=OUT),
    Case("csv-inf", "csv", "a diameter written inf",
         measurements(with_row("P1,R1,2026-03-02,T1,target,liver,false,inf,,10,measured")),
         "finite", outputs=OUT),
    Case("csv-huge", "csv", "a diameter of 1e308 mm",
         measurements(with_row("P1,R1,2026-03-02,T1,target,liver,false,1e308,,10,measured")),
         "mm", outputs=OUT),
    Case("csv-text-number", "csv", "a diameter written 30 mm",
         measurements(with_row("P1,R1,2026-03-02,T1,target,liver,false,30 mm,,10,measured")),
         "not a number", outputs=OUT),
    Case("csv-decimal-comma", "csv", "a decimal comma (quoted 30,5)",
         measurements(with_row('P1,R1,2026-03-02,T1,target,liver,false,"30,5",,10,measured')),
         "not a number", outputs=OUT),
    Case("csv-role", "csv", "an unknown role",
         measurements(with_row("P1,R1,2026-03-02,T1,tumour,liver,false,30,,10,measured")),
         "unknown value", outputs=OUT),
    Case("csv-status", "csv", "an unknown status",
         measurements(with_row("P1,R1,2026-03-02,T1,target,liver,false,30,,10,gone")),
         "unknown value", outputs=OUT),
    Case("csv-nodal", "csv", "is_nodal written maybe",
         measurements(with_row("P1,R1,2026-03-02,T1,target,liver,maybe,30,,10,measured")),
         "true or false", outputs=OUT),
    Case("csv-duplicate", "csv", "a lesion listed twice at one time point",
         measurements([*GOOD, GOOD[1]]), "listed twice", outputs=OUT),
    Case("csv-no-baseline-target", "csv", "a target without its diameter at baseline",
         measurements(["P1,R1,2026-01-05,T1,target,liver,false,,,,measured", GOOD[1]]),
         "long axis", outputs=OUT),
    Case("csv-new-at-baseline", "csv", "a new lesion on the earliest date",
         measurements([*GOOD, "P1,R1,2026-01-05,NEW1,new,liver,false,12,,,measured"]),
         "new lesion cannot be at the baseline", outputs=OUT),
    Case("csv-role-change", "csv", "a lesion that changes role",
         measurements([GOOD[0], "P1,R1,2026-03-02,T1,non-target,liver,false,,,,present"]),
         "changes role", outputs=OUT),
    Case("csv-ragged", "csv", "a row with more cells than the header",
         measurements(with_row("P1,R1,2026-03-02,T1,target,liver,false,30,,10,measured,x,y")),
         "m.csv", outputs=OUT),
    Case("csv-empty-id", "csv", "an empty patient id",
         measurements(with_row(",R1,2026-03-02,T1,target,liver,false,30,,10,measured")),
         "must not be empty", outputs=OUT),
    Case("burden-bad-pct", "csv", "a burden table with HTB 140 %",
         _burden("patient_id,timepoint_date,htb_method,htb_pct\nP1,2026-01-05,visual,140\n"),
         "htb_pct", outputs=OUT, names="burden.csv"),
    Case("burden-other-patient", "csv", "a burden table of a patient not in the measurements",
         _burden("patient_id,timepoint_date,htb_method,htb_pct\nP9,2026-01-05,visual,12\n"),
         "P9", outputs=OUT, names="burden"),
    Case("responses-not-ours", "csv", "report on a CSV that assess did not write",
         lambda tmp: _responses(tmp, "a,b\n1,2\n", "report"), "responses.csv",
         outputs=("report",)),
    Case("agreement-not-ours", "csv", "agreement on a CSV that assess did not write",
         lambda tmp: _responses(tmp, "a,b\n1,2\n", "agreement"), "responses.csv"),
    Case("agreement-one-reader", "csv", "agreement on a read by one reader",
         _one_reader_agreement, "reader", names="responses.csv"),
    Case("clinical-bad-event", "csv", "a clinical table with os_event 2",
         _clinical("patient_id,os_months,os_event,pfs_months,pfs_event\nP1,10,2,5,1\n"),
         "os_event", outputs=("report",), names="clinical.csv"),
    Case("clinical-negative-time", "csv", "a clinical table with negative months",
         _clinical("patient_id,os_months,os_event,pfs_months,pfs_event\nP1,-3,1,5,1\n"),
         "os_months", outputs=("report",), names="clinical.csv"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case, tmp_path: Path) -> None:
    check(case, tmp_path)


MARKED = HEADER + ",is_baseline"
CASES += [
    Case("csv-followup-before-baseline", "csv",
         "a follow-up dated before the baseline marked with is_baseline",
         measurements(["P1,R1,2026-01-05,T1,target,liver,false,40,,30,measured,true",
                       "P1,R1,2025-03-02,T1,target,liver,false,30,,10,measured,false"],
                      header=MARKED), "dated before the baseline marked on line 2", outputs=OUT),
    Case("csv-is-baseline-word", "csv", "is_baseline written 'first'",
         measurements(["P1,R1,2026-01-05,T1,target,liver,false,40,,30,measured,first",
                       "P1,R1,2026-03-02,T1,target,liver,false,30,,10,measured,"],
                      header=MARKED), "true or false", outputs=OUT),
]

LINKED = HEADER + ",fragment_of,merged_into"
CASES += [
    Case("csv-fragment-of-unknown", "csv", "a fragment of a lesion that is not at the baseline",
         measurements(["P1,R1,2026-01-05,T1,target,liver,false,40,,30,measured,,",
                       "P1,R1,2026-03-02,T1,target,liver,false,30,,10,measured,,",
                       "P1,R1,2026-03-02,T1.2,target,liver,false,8,,2,measured,T7,"],
                      header=LINKED), "no baseline target or non-target lesion T7", outputs=OUT),
    Case("csv-merged-with-diameter", "csv", "a lesion merged into another with its own diameter",
         measurements(["P1,R1,2026-01-05,T1,target,liver,false,40,,30,measured,,",
                       "P1,R1,2026-01-05,T2,target,liver,false,20,,10,measured,,",
                       "P1,R1,2026-03-02,T1,target,liver,false,55,,30,measured,,",
                       "P1,R1,2026-03-02,T2,target,liver,false,20,,,present,,T1"],
                      header=LINKED), "leave long_axis_mm empty", outputs=OUT),
    Case("csv-fragment-of-node", "csv", "a lymph node recorded as split into fragments",
         measurements(["P1,R1,2026-01-05,N1,target,lymph node,true,,20,,measured,,",
                       "P1,R1,2026-03-02,N1,target,lymph node,true,,12,,measured,,",
                       "P1,R1,2026-03-02,N1.2,target,lymph node,true,,6,,measured,N1,"],
                      header=LINKED), "non-nodal lesions only", outputs=OUT),
    # the optional volume columns of a segmented lesion (issue 22): checked like a diameter
    Case("csv-volume-negative", "csv", "a negative lesion volume",
         measurements([GOOD[0] + ",4188.8,1200", GOOD[1] + ",-5,"], header=VOLUMES),
         "a volume cannot be negative", outputs=OUT),
    Case("csv-volume-huge", "csv", "a lesion volume of 1e12 mm³ (a unit error)",
         measurements([GOOD[0] + ",4188.8,1200", GOOD[1] + ",1e12,"], header=VOLUMES),
         "not a lesion's volume", outputs=OUT),
    Case("csv-volume-in-ml", "csv", "a volume written 4.2 mL",
         measurements([GOOD[0] + ",4.2 mL,", GOOD[1] + ",,"], header=VOLUMES),
         "write cubic millimetres", outputs=OUT),
    Case("csv-enhancing-above-volume", "csv", "an enhancing volume larger than the lesion's",
         measurements([GOOD[0] + ",4188.8,5000", GOOD[1] + ",,"], header=VOLUMES),
         "the enhancing part cannot be larger than the lesion", outputs=OUT),
]
