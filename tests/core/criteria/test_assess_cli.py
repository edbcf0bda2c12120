"""``response-tool assess``: outputs, errors with line numbers, nothing half-written."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from helpers import row, sums

from response_tool.cli import main
from response_tool.io.measurements_csv import markdown

REPO = Path(__file__).resolve().parents[3]
HEADER = ("patient_id,reader_id,timepoint_date,lesion_id,role,organ,is_nodal,long_axis_mm,"
          "short_axis_mm,viable_long_axis_mm,status")


def write(tmp_path: Path, rows: list[dict], name: str = "m.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_assess_writes_responses_and_bor(tmp_path, capsys):
    src = write(tmp_path, sums([20, 10], [10, 10], [10, 10]))
    out, bor = tmp_path / "responses.csv", tmp_path / "bor.csv"
    assert main(["assess", str(src), "-o", str(out), "--bor", str(bor)]) == 0
    responses = list(csv.DictReader(out.open()))
    assert len(responses) == 2 * 3  # both criteria × (baseline + 2 follow-ups)
    required = {"patient_id", "reader_id", "criterion", "timepoint_date", "sum_mm",
                "baseline_sum_mm", "nadir_sum_mm", "pct_change_from_baseline",
                "pct_change_from_nadir", "abs_change_from_nadir_mm", "target_response",
                "non_target_response", "new_lesions", "overall_response", "rule_id", "rule_source"}
    assert required <= set(responses[0])
    values = {r["overall_response"] for r in responses} - {""}
    assert values <= {"CR", "PR", "SD", "PD", "NE", "NON-CR/NON-PD"}
    bors = list(csv.DictReader(bor.open()))
    assert [(b["criterion"], b["best_overall_response"], b["confirmed_best_overall_response"])
            for b in bors] == [("recist1.1", "PR", "PR"), ("mrecist", "PR", "PR")]
    assert "recist1.1: time points PR 2" in capsys.readouterr().out


def test_criteria_and_options_are_passed_through(tmp_path):
    src = write(tmp_path, sums([20, 10], [10, 10], [10, 10], week_step=2))
    out, bor = tmp_path / "r.csv", tmp_path / "b.csv"
    assert main(["assess", str(src), "-o", str(out), "--bor", str(bor), "--criteria", "recist1.1",
                 "--confirm-weeks", "8"]) == 0
    (b,) = list(csv.DictReader(bor.open()))
    assert (b["criterion"], float(b["confirm_weeks"])) == ("recist1.1", 8.0)
    assert b["confirmed_best_overall_response"] == "NE"  # 2 weeks apart: no confirmation, no SD yet


BAD = [
    ("unknown role", {"role": "tumour"}, "column role ('tumour'): unknown value"),
    ("negative diameter", {"long_axis_mm": "-4"}, "column long_axis_mm ('-4'): a diameter cannot be negative"),
    ("non-numeric diameter", {"long_axis_mm": "12,5"}, "column long_axis_mm ('12,5'): not a number"),
    ("unparseable date", {"timepoint_date": "03/09/2026"}, "column timepoint_date ('03/09/2026'): not a date"),
    ("unknown status", {"status": "gone"}, "column status ('gone'): unknown value"),
]


@pytest.mark.parametrize(("change", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_invalid_input_names_line_and_column_exits_2_and_writes_nothing(tmp_path, capsys, change,
                                                                           message):
    rows = sums([20, 10], [10, 10])
    rows[3].update(change)  # line 5 of the file (header = line 1)
    src = write(tmp_path, rows)
    out, bor = tmp_path / "r.csv", tmp_path / "b.csv"
    assert main(["assess", str(src), "-o", str(out), "--bor", str(bor)]) == 2
    err = capsys.readouterr().err
    assert f"line 5, {message}" in err and "nothing was written" in err and "Traceback" not in err
    assert not out.exists() and not bor.exists()
    assert not list(tmp_path.glob(".*.part"))


def test_duplicate_lesion_and_missing_baseline_measurement(tmp_path, capsys):
    rows = sums([20, 10], [10, 10])
    rows.append(dict(rows[2]))  # T1 at follow-up twice (line 6)
    rows[1].update(status="not-evaluated", long_axis_mm="")  # baseline T2 never measured (line 3)
    src = write(tmp_path, rows)
    assert main(["assess", str(src), "-o", str(tmp_path / "r.csv")]) == 2
    err = capsys.readouterr().err
    assert "line 3, column status ('not-evaluated'): a baseline target must be measured" in err
    assert "line 6, column lesion_id ('T1'): lesion listed twice" in err and "first on line 4" in err


def test_no_baseline_disease_and_new_lesion_at_baseline(tmp_path, capsys):
    src = write(tmp_path, [row(0, "NEW1", "new", long=12), row(8, "NEW1", "new", long=12)])
    assert main(["assess", str(src), "-o", str(tmp_path / "r.csv")]) == 2
    err = capsys.readouterr().err
    assert "a new lesion cannot be at the baseline" in err
    assert "no target or non-target lesion at the baseline" in err


def test_missing_column_and_missing_file(tmp_path, capsys):
    path = tmp_path / "m.csv"
    path.write_text(HEADER.replace(",status", "") + "\n")
    assert main(["assess", str(path), "-o", str(tmp_path / "r.csv")]) == 2
    assert "missing column(s) status" in capsys.readouterr().err
    assert main(["assess", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "r.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_existing_output_survives_a_failed_run(tmp_path):
    out = tmp_path / "r.csv"
    out.write_text("previous results\n")
    rows = sums([20, 10], [10, 10])
    rows[2]["long_axis_mm"] = "x"
    assert main(["assess", str(write(tmp_path, rows)), "-o", str(out)]) == 2
    assert out.read_text() == "previous results\n"


def test_schema_doc_is_generated_from_the_schema():
    assert (REPO / "docs" / "measurements-csv.md").read_text() == markdown()


def test_an_output_that_cannot_be_written_is_a_one_line_error(tmp_path, capsys):
    src = write(tmp_path, sums([20, 10], [10, 10]))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["assess", str(src), "-o", str(blocker / "responses.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err and "a-file" in err
    assert "Traceback" not in err
