"""Treatment cycles (response_tool.report.cycles) on hand-computed cases: which scans each cycle
takes, its baseline, the re-labelling at a cycle's baseline, the per-cycle best and first
response, TTLP; first vs best; assess --treatments and report --cycles end to end; a read
without treatments assessed exactly as before."""

from __future__ import annotations

import pandas as pd
import pytest

from response_tool.cli import main
from response_tool.domain.errors import ReportInputError
from response_tool.report.cycles import (
    assess_cycles,
    first_and_best,
    per_cycle_summary,
    read_treatments,
    split_cycles,
)

COLUMNS = ["patient_id", "reader_id", "timepoint_date", "lesion_id", "role", "organ",
           "is_nodal", "long_axis_mm", "short_axis_mm", "viable_long_axis_mm", "status"]


def _row(date: str, lesion: str, mm: float | str, role: str = "target",
         status: str = "measured") -> dict:
    return dict(zip(COLUMNS, ["P1", "R1", date, lesion, role, "liver", "false",
                              "" if mm == "" else str(mm), "", "" if mm == "" else str(mm),
                              status], strict=True))


#: one patient, one 50 mm target: 50 → 30 (PR) → 32 → 45 (+50 % from the nadir 30: PD)
#: → 30; a new lesion at the 4th scan. TACE on the baseline day, and two days after scan 3.
SCANS = [("2024-01-01", 50.0), ("2024-03-01", 30.0), ("2024-05-01", 32.0),
         ("2024-07-01", 45.0), ("2024-09-01", 30.0)]


def _measurements() -> pd.DataFrame:
    rows = [_row(d, "T1", mm) for d, mm in SCANS]
    rows += [_row(d, "NEW1", 12.0, role="new") for d in ("2024-07-01", "2024-09-01")]
    return pd.DataFrame(rows)


def _treatments(*dates: str) -> pd.DataFrame:
    return read_treatments(pd.DataFrame({"patient_id": "P1", "treatment_date": list(dates),
                                         "kind": "TACE"}))


def test_each_cycle_takes_its_baseline_and_scans():
    split = split_cycles(_measurements(), _treatments("2024-01-01", "2024-05-03"))
    c = split.cycles.set_index("cycle")
    # cycle 1: baseline the scan on the treatment day; follow-ups up to the next treatment
    assert c.loc[1, "baseline_date"] == pd.Timestamp("2024-01-01")
    # cycle 2: its baseline is the last scan before its TACE (2024-05-01), not the first scan
    assert c.loc[2, "baseline_date"] == pd.Timestamp("2024-05-01")
    dates = split.rows.groupby("patient_id")["timepoint_date"].apply(lambda d: sorted(set(d)))
    assert dates["P1#cycle-1"] == ["2024-01-01", "2024-03-01", "2024-05-01"]
    assert dates["P1#cycle-2"] == ["2024-05-01", "2024-07-01", "2024-09-01"]


def test_a_new_lesion_at_a_cycle_baseline_is_known_disease():
    split = split_cycles(_measurements(), _treatments("2024-01-01", "2024-07-02"))
    c2 = split.rows[split.rows.patient_id == "P1#cycle-2"]
    new1 = c2[c2.lesion_id == "NEW1"]
    assert set(new1.role) == {"non-target"} and set(new1.status) == {"present"}
    assert set(new1.long_axis_mm) == {""}


def test_per_cycle_responses_first_best_and_ttlp_by_hand():
    table, tp, notes = assess_cycles(_measurements(), _treatments("2024-01-01", "2024-05-03"))
    assert notes == []
    r = table[table.criterion == "recist1.1"].set_index("cycle")
    # cycle 1 (baseline 50): 30 = −40 % PR, 32 = −36 % still PR (+6.7 % from the nadir): BOR PR
    assert r.loc[1, "first_response"] == "PR" and r.loc[1, "best_overall_response"] == "PR"
    assert r.loc[1, "ttlp_event"] == 0
    assert r.loc[1, "ttlp_months"] == pytest.approx(121 / 30.4375, abs=0.01)  # to 2024-05-01
    # cycle 2 (baseline 32): 45 mm = +40.6 % and a new lesion: PD at its first follow-up
    assert r.loc[2, "first_response"] == "PD" and r.loc[2, "best_overall_response"] == "PD"
    assert r.loc[2, "ttlp_event"] == 1
    assert r.loc[2, "ttlp_months"] == pytest.approx(59 / 30.4375, abs=0.01)  # 05-03 → 07-01
    assert set(tp["cycle"]) == {1, 2} and set(tp["patient_id"]) == {"P1"}
    fb = first_and_best(table).set_index("criterion")
    assert fb.loc["recist1.1", "first_response"] == "PR"
    assert fb.loc["recist1.1", "best_response"] == "PR"
    s = per_cycle_summary(table)
    row = s[(s.criterion == "recist1.1") & (s.cycles == "overall")].iloc[0]
    assert row.n == 2 and row.PR == "1 (50.0 %)" and row.PD == "1 (50.0 %)"


def test_a_cycle_without_a_scan_after_it_is_left_out_and_said():
    table, _, notes = assess_cycles(_measurements(), _treatments("2024-01-01", "2024-10-01"))
    assert set(table.cycle) == {1}
    assert any("cycle 2" in n and "no scan after" in n for n in notes)


@pytest.mark.parametrize(("rows", "message"), [
    ([("P1", "2024-13-01", "TACE")], "line 2: treatment_date = '2024-13-01'"),
    ([("P1", "2024-01-01", "")], "line 2: kind is empty"),
    ([("P1", "2024-01-01", "TACE"), ("P1", "2024-01-01", "TAE")], "two treatments on one day"),
])
def test_bad_treatments_are_one_line_errors(rows, message):
    with pytest.raises(ReportInputError, match=message):
        read_treatments(pd.DataFrame(rows, columns=["patient_id", "treatment_date", "kind"]))


def test_assess_treatments_and_report_cycles_end_to_end(cohort_dir, tmp_path, capsys):
    out = tmp_path / "r.csv"
    args = ["assess", str(cohort_dir / "measurements.csv"), "--burden",
            str(cohort_dir / "burden.csv"), "-o", str(out), "--bor", str(tmp_path / "b.csv")]
    assert main([*args, "--treatments", str(cohort_dir / "treatments.csv")]) == 0
    assert "wrote " + str(tmp_path / "r.cycles.csv") in capsys.readouterr().err
    cycles = pd.read_csv(tmp_path / "r.cycles.csv")
    tx = pd.read_csv(cohort_dir / "treatments.csv")
    # one row per treatment, reader and criterion (every cycle of the cohort has scans)
    assert len(cycles) == len(tx) * 3 * 2
    # without --treatments: the responses and BOR are those of a plain assess, byte for byte
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main([*args[:4], "-o", str(plain / "r.csv"), "--bor", str(plain / "b.csv")]) == 0
    assert (plain / "r.csv").read_bytes() == out.read_bytes()
    assert (plain / "b.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    rep = tmp_path / "rep"
    assert main(["report", str(out), "--bor", str(tmp_path / "b.csv"), "--clinical",
                 str(cohort_dir / "clinical.csv"), "--cycles", str(tmp_path / "r.cycles.csv"),
                 "--agreement-boot", "0", "-o", str(rep)]) == 0
    table = pd.read_csv(rep / "tables" / "cycles_response.csv")
    r1 = cycles[(cycles.reader_id == "R1") & (cycles.criterion == "mrecist")]
    row = table[(table.criterion == "mRECIST") & (table.cycles == "cycle 1")].iloc[0]
    assert row.n == (r1.cycle == 1).sum()
    k = int(r1[r1.cycle == 1].best_overall_response.isin(["CR", "PR"]).sum())
    assert f"{k} ({100 * k / row.n:.1f} %)" == row.ORR
    assert (rep / "figures" / "km_ttlp_mrecist.png").is_file()
    assert "Treatment cycles" in (rep / "index.html").read_text()


def test_cycles_without_treatments_is_refused(cohort_dir, tmp_path, capsys):
    assert main(["assess", str(cohort_dir / "measurements.csv"), "-o", str(tmp_path / "r.csv"),
                 "--cycles", str(tmp_path / "c.csv")]) == 2
    assert "--cycles needs --treatments" in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()
