"""``response-tool agreement``: complete cases, pairs, partitions, sums, bootstrap and bad input."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_coefficients import PEFR_MINI, PEFR_WRIGHT, XEROMAMMOGRAMS

from response_tool.agreement import agreement
from response_tool.cli import main

LABELS = ("CR", "PR", "SD", "PD")


def _responses(per_reader: dict[str, list[str]], sums: dict[str, list[float]] | None = None,
               criterion: str = "recist1.1") -> pd.DataFrame:
    """A responses table: baseline + follow-up 1 per patient and reader."""
    rows = []
    for reader, labels in per_reader.items():
        for i, label in enumerate(labels):
            pid = f"P{i + 1:03d}"
            base = (sums or {}).get(reader, [50.0] * len(labels))[i]
            rows.append({"patient_id": pid, "reader_id": reader, "criterion": criterion,
                         "timepoint_date": "2024-01-01", "is_baseline": "True",
                         "sum_mm": base, "overall_response": ""})
            rows.append({"patient_id": pid, "reader_id": reader, "criterion": criterion,
                         "timepoint_date": "2024-03-01", "is_baseline": "False",
                         "sum_mm": base * 0.8, "overall_response": label})
    return pd.DataFrame(rows)


def _xeromammogram_readers() -> dict[str, list[str]]:
    a, b = np.nonzero(np.ones_like(XEROMAMMOGRAMS))
    counts = XEROMAMMOGRAMS.ravel()
    r1 = [LABELS[i] for i in np.repeat(a, counts)]
    r2 = [LABELS[j] for j in np.repeat(b, counts)]
    return {"R1": r1, "R2": r2, "R3": list(r1)}  # R3 agrees perfectly with R1


def test_pairs_partitions_and_a_perfect_pair_end_to_end(tmp_path, capsys):
    path = tmp_path / "responses.csv"
    _responses(_xeromammogram_readers()).to_csv(path, index=False)
    assert main(["agreement", str(path), "--json", "--n-boot", "200", "--seed", "3"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert (res["criterion"], res["n_complete"], res["n_dropped"]) == ("recist1.1", 85, 0)
    assert res["readers"] == ["R1", "R2", "R3"]
    pairs = {(p["reader_a"], p["reader_b"]): p for p in res["pairwise"]}
    assert pairs["R1", "R2"]["cohen_kappa"] == pytest.approx(0.4728, abs=1e-4)  # Stata's value
    assert pairs["R1", "R2"]["weighted_kappa_linear"] == pytest.approx(0.5684, abs=1e-4)
    assert pairs["R1", "R3"]["cohen_kappa"] == 1.0
    assert pairs["R1", "R3"]["cohen_kappa_ci95"] == [1.0, 1.0]
    lo, hi = pairs["R1", "R2"]["cohen_kappa_ci95"]
    assert lo < 0.4728 < hi and hi - lo < 0.4
    # CR vs non-CR for R1/R2, by hand from the table: [[21, 12], [7, 45]]
    # po = 66/85, pe = (33 x 28 + 52 x 57)/85^2 -> kappa = 1722/3337
    cr = {(p["reader_a"], p["reader_b"]): p for p in res["partitions"]["cr_vs_noncr"]["pairwise"]}
    assert cr["R1", "R2"]["cohen_kappa"] == pytest.approx(float(Fraction(1722, 3337)), abs=1e-4)
    assert set(res["partitions"]) == {"cr_vs_noncr", "crpr_vs_sdpd", "pd_vs_nonpd"}
    for part in res["partitions"].values():
        assert -1 <= part["fleiss_kappa"] <= 1 and -1 <= part["gwet_ac1"] <= 1
    assert res["categories_used"] == list(LABELS)


def test_the_bootstrap_is_seeded():
    frame = _responses(_xeromammogram_readers())
    a = agreement(frame, n_boot=100, seed=7)
    b = agreement(frame, n_boot=100, seed=7)
    c = agreement(frame, n_boot=100, seed=8)
    assert a["fleiss_kappa_ci95"] == b["fleiss_kappa_ci95"]
    assert a["fleiss_kappa_ci95"] != c["fleiss_kappa_ci95"]
    assert a["fleiss_kappa"] == c["fleiss_kappa"]


def test_sums_give_bland_altman_and_icc():
    n = len(PEFR_WRIGHT)
    labels = ["PR", "SD", "PD", "SD"] * 5
    frame = _responses({"R1": labels[:n], "R2": labels[:n]},
                       sums={"R1": [float(v) for v in PEFR_WRIGHT],
                             "R2": [float(v) for v in PEFR_MINI]})
    res = agreement(frame, n_boot=0)
    (ba,) = res["sums"]["baseline"]["bland_altman"]
    assert ba["bias"] == pytest.approx(-2.1, abs=0.05) and ba["n"] == 17  # Bland & Altman 1986
    assert ba["loa_high"] - ba["loa_low"] == pytest.approx(2 * 1.96 * 38.77, abs=0.1)
    assert 0.8 < res["sums"]["baseline"]["icc_2_1"]["icc"] < 1
    assert "fleiss_kappa_ci95" not in res  # --n-boot 0: no intervals


def test_incomplete_and_ne_patients_are_dropped_and_counted():
    readers = {"R1": ["PR", "SD", "PD", "NE", "CR"], "R2": ["PR", "SD", "PD", "SD", "CR"],
               "R3": ["PR", "PD", "PD", "SD", "CR"]}
    frame = _responses(readers)
    frame = frame[~((frame["reader_id"] == "R3") & (frame["patient_id"] == "P005"))]
    baseline_only = frame[(frame["patient_id"] == "P001")].copy()
    baseline_only["patient_id"] = "P006"
    frame = pd.concat([frame, baseline_only[baseline_only["is_baseline"] == "True"]])
    res = agreement(frame, n_boot=0)
    assert res["n_complete"] == 3 and res["n_dropped"] == 3
    assert res["dropped"] == {"not read by every reader": ["P005"],
                              "no follow-up 1 from any reader": ["P006"],
                              "NE (or no response) from some reader": ["P004"]}


def test_non_cr_non_pd_counts_as_sd():
    frame = _responses({"R1": ["NON-CR/NON-PD", "PR", "PD"], "R2": ["SD", "PR", "PD"]})
    res = agreement(frame, n_boot=0)
    assert res["pairwise"][0]["cohen_kappa"] == 1.0


def test_the_adjudicated_reader_is_left_out_unless_named():
    frame = _responses({"R1": ["PR", "SD", "PD"], "R2": ["PR", "SD", "SD"],
                        "ADJ": ["PR", "SD", "PD"]})
    assert agreement(frame, n_boot=0)["readers"] == ["R1", "R2"]
    assert agreement(frame, n_boot=0, readers=["R1", "ADJ"])["readers"] == ["R1", "ADJ"]


def test_followup_k_and_bor(tmp_path):
    frame = _responses({"R1": ["PR", "SD", "PD"], "R2": ["PR", "SD", "SD"]})
    fu2 = frame[~frame["is_baseline"].eq("True")].copy()
    fu2["timepoint_date"] = "2024-05-01"
    fu2["overall_response"] = "PD"
    both = pd.concat([frame, fu2])
    res = agreement(both, followup=2, n_boot=0)
    assert res["compared"] == "follow-up 2" and res["pairwise"][0]["percent_agreement"] == 100.0
    bor = pd.DataFrame({"patient_id": ["P001", "P002", "P001", "P002", "P003", "P003"],
                        "reader_id": ["R1", "R1", "R2", "R2", "R1", "R2"],
                        "criterion": "recist1.1",
                        "best_overall_response": ["PR", "SD", "PR", "PR", "PD", "PD"]})
    res = agreement(both, bor=bor, n_boot=0)
    assert res["compared"] == "best overall response" and res["n_complete"] == 3
    assert res["pairwise"][0]["percent_agreement"] == pytest.approx(66.7)


@pytest.mark.parametrize(("frame_readers", "args", "message"), [
    ({"R1": ["PR", "SD"]}, [], "at least two readers"),
    ({"R1": ["PR", "SD"], "R2": ["PR", "SD"]}, ["--criterion", "mrecist"],
     "no mrecist rows in the responses (criteria present: recist1.1)"),
    ({"R1": ["PR", "SD"], "R2": ["PR", "SD"]}, ["--followup", "2"],
     "no patient has a follow-up 2"),
    ({"R1": ["PR", "SD"], "R2": ["PR", "SD"]}, ["--readers", "R1,R9"], "R9 not in the responses"),
    ({"R1": ["NE", "NE"], "R2": ["PR", "SD"]}, [], "only 0 patient(s) rated"),
], ids=["one-reader", "criterion-absent", "no-such-follow-up", "unknown-reader", "all-ne"])
def test_invalid_input_is_one_line_and_exit_2(tmp_path, capsys, frame_readers, args, message):
    path = tmp_path / "responses.csv"
    _responses(frame_readers).to_csv(path, index=False)
    assert main(["agreement", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_not_a_responses_file(tmp_path, capsys):
    path = tmp_path / "measurements.csv"
    path.write_text("patient_id,reader_id\nP1,R1\n")
    assert main(["agreement", str(path)]) == 2
    assert "column(s) criterion" in capsys.readouterr().err
    assert main(["agreement", str(tmp_path / "absent.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["agreement", str(empty)]) == 2  # was an internal error before the shared reader
    assert "not a readable CSV" in capsys.readouterr().err


def test_the_synthetic_cohort(cohort_dir: Path, capsys):
    assert main(["agreement", str(cohort_dir / "responses.csv"), "--criterion", "mrecist",
                 "--bor", str(cohort_dir / "bor.csv"), "--n-boot", "100", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n_complete"] + res["n_dropped"] == 300
    assert res["n_complete"] >= 280
    assert res["categories_used"] == list(LABELS)  # complete necrosis gives mRECIST CRs
    # readers with 6 % proportional and 1.5 mm additive error agree well but not perfectly
    assert 0.6 < res["fleiss_kappa"] < 0.95
    for name in ("baseline",):
        assert res["sums"][name]["icc_2_1"]["icc"] > 0.9
        biases = {(b["reader_a"], b["reader_b"]): b["bias"]
                  for b in res["sums"][name]["bland_altman"]}
        assert biases["R1", "R2"] < 0 < biases["R1", "R3"]  # R2 measures 3 % larger, R3 2 % smaller
