"""Synthetic multi-reader cohort of NET liver metastases after TACE, for the agreement statistics
and the report (issue 6). Seeded and deterministic; nothing here is real patient data.

    python -m response_tool.phantom.cohort OUT [--patients 300] [--readers 3] [--seed 0]

writes into OUT:

* ``measurements.csv`` — the engine's input (docs/measurements-csv.md): every reader measures the
  same targets (fixed by a lead reader), baseline + up to 4 follow-ups 12 weeks apart;
* ``clinical.csv`` — ``patient_id, os_months, os_event, pfs_months, pfs_event, group``, then
  the baseline covariates ``age, sex, ki67_grade, primary_site, htb_pct`` (drawn from their own
  seeded generator after everything else, so the columns before them and every other file are
  those of the generator without covariates);
* ``burden.csv`` — baseline hepatic tumour burden per patient (``htb_pct``, volumetric);
* ``truth.csv`` — the latent (reader-free) diameters, for checking the readers' error model;
* ``treatments.csv`` — ``patient_id, treatment_date, kind``: a TACE a few days after the
  baseline scan, repeated after the second follow-up scan for 60 % of the patients followed that
  long and after the third for half of those (drawn from their own generator; the sizes do not
  respond to the later sessions — the model has one course — so the later cycles' responses
  show re-baselining, not a treatment effect).

The model:

* each patient belongs to a latent group — ``complete`` (no enhancing tumour left: mRECIST CR,
  RECIST PR), ``both`` (responds by size and by enhancement),
  ``viable-only`` (necrosis without shrinkage: an mRECIST responder that RECIST calls SD),
  ``stable`` or ``early-pd`` — with probabilities chosen so that, as in the NET-TACE series, the
  objective response rate is ≈ 60-65 % by mRECIST and ≈ 40-45 % by RECIST 1.1;
* 1-2 liver targets (sometimes a nodal or peritoneal one), 20-90 mm, viable 70-100 % at baseline;
  sizes move towards the group's nadir, then grow after a time to progression drawn per patient
  (shorter in worse groups), when a new lesion may also appear;
* readers: each diameter = truth × (1 + reader bias + ε_prop) + ε_add, with ε_prop ~ N(0, 6 %) and
  ε_add ~ N(0, 1.5 mm) (viable diameters: 10 % and 2 mm — enhancement margins are harder to
  call), and readers miss a new lesion 10 % of the time and leave a target unevaluated 1 % of the
  time;
* covariates (:func:`covariates`): age ~ N(63, 10) years and sex (45 % female) unrelated to
  outcome; Ki-67 grade G1/G2/G3 more often G3 in the worse groups (so it predicts response and
  survival, as in Liu 2022); primary site pancreas / small bowel / other, pancreas more often
  in the worse groups; ``htb_pct`` the baseline hepatic tumour burden of ``burden.csv``;
* survival linked to response: overall survival = time to progression + post-progression
  survival (median 20 months, shorter with HTB > 50 %); progression-free survival ends at the
  first 12-weekly scan after progression (or death); administrative censoring at 24-72 months;
  the measurements stop at censoring or death.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

GROUPS = ("complete", "both", "viable-only", "stable", "early-pd")
GROUP_P = (0.06, 0.36, 0.21, 0.24, 0.13)
#: per group: (total size factor at nadir, viable factor at nadir, median months to progression)
GROUP_MODEL = {"complete": (0.45, 0.0, 30.0), "both": (0.50, 0.25, 20.0),
               "viable-only": (0.85, 0.40, 14.0),
               "stable": (0.98, 0.90, 9.0), "early-pd": (1.05, 1.0, 2.0)}
SCAN_WEEKS = 12
#: a new liver lesion is recorded measured (mRECIST counts new intrahepatic lesions from 10 mm);
#: a constant, so the seeded random stream (and every other value) is unchanged
NEW_LESION_MM = 15.0
N_FOLLOWUPS = 4
READER_BIAS = (0.0, 0.03, -0.02, 0.05, -0.04)
#: per group: probabilities of Ki-67 grade G1, G2, G3 and of a pancreatic primary
GROUP_COVARIATES = {"complete": ((0.6, 0.35, 0.05), 0.25), "both": ((0.5, 0.42, 0.08), 0.3),
                    "viable-only": ((0.4, 0.5, 0.1), 0.35), "stable": ((0.3, 0.55, 0.15), 0.4),
                    "early-pd": ((0.15, 0.45, 0.4), 0.55)}


def generate_cohort(out: str | Path, n_patients: int = 300, n_readers: int = 3,
                    seed: int = 0) -> dict[str, Path]:
    """Write the cohort's CSVs into ``out``; returns their paths."""
    if n_patients < 1 or not 1 <= n_readers <= len(READER_BIAS):
        raise ValueError(f"patients >= 1 and 1..{len(READER_BIAS)} readers")
    rng = np.random.default_rng(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    readers = [f"R{i + 1}" for i in range(n_readers)]
    rows, truth, clinical, burden = [], [], [], []
    for p in range(n_patients):
        pid = f"NET{p + 1:04d}"
        group = GROUPS[rng.choice(len(GROUPS), p=GROUP_P)]
        f_tot, f_via, ttp_median = GROUP_MODEL[group]
        htb = float(np.clip(rng.beta(1.3, 4.0) * 100, 0.5, 95))
        ttp = float(rng.exponential(ttp_median / np.log(2)))  # months
        pps = float(rng.exponential(20.0 / np.log(2) * (0.5 if htb > 50 else 1.0)))
        os_months = ttp + pps
        censor = float(rng.uniform(24, 72))
        start = np.datetime64("2022-01-03") + np.timedelta64(int(rng.integers(0, 900)), "D")
        n_fu = N_FOLLOWUPS
        visits = [0] + [k * SCAN_WEEKS * 7 + int(rng.integers(-7, 8)) for k in range(1, n_fu + 1)]
        visits = [d for d in visits if d / 30.44 <= min(censor, os_months)]
        if len(visits) < 2:  # everyone has at least one follow-up scan
            visits = visits[:1] + [SCAN_WEEKS * 7]
        lesions = [("T1", "liver", False)]
        if rng.random() < 0.7:
            lesions.append(("T2", "liver", False))
        if rng.random() < 0.15:
            lesions.append(("N1", "lymph node", True))
        elif rng.random() < 0.1:
            lesions.append(("T3", "peritoneum", False))
        base = {lid: (float(rng.uniform(16, 30)) if nodal else float(rng.lognormal(np.log(38), 0.4)))
                for lid, _, nodal in lesions}
        base = {k: min(max(v, 12.0), 110.0) for k, v in base.items()}
        viable0 = {lid: base[lid] * float(rng.uniform(0.7, 1.0)) for lid, _, _ in lesions}
        shrink_rate = float(rng.uniform(0.4, 0.9))  # share of the way to the nadir per 3 months
        new_at = ttp + float(rng.exponential(2.0)) if rng.random() < 0.55 else np.inf
        for k, day in enumerate(visits):
            months = day / 30.44
            date = str(start + np.timedelta64(int(day), "D"))
            approach = 1 - (1 - shrink_rate) ** (months / 3.0) if k else 0.0
            tot_f = 1 + (f_tot - 1) * approach
            via_f = 1 + (f_via - 1) * approach
            if group == "complete" and k and months <= ttp:
                via_f = 0.0  # complete necrosis
            if months > ttp:
                growth = 1.25 + 0.06 * (months - ttp)
                tot_f *= growth
                via_f = max(via_f, 0.6) * growth
            for lid, organ, nodal in lesions:
                lf = float(np.exp(rng.normal(0, 0.04))) if k else 1.0
                t_long = base[lid] * tot_f * lf
                t_via = min(viable0[lid] * via_f * lf, t_long)
                truth.append({"patient_id": pid, "timepoint_date": date, "lesion_id": lid,
                              "long_axis_mm": round(t_long, 2), "viable_long_axis_mm":
                              None if nodal else round(t_via, 2)})
                for r, reader in enumerate(readers):
                    row = {"patient_id": pid, "reader_id": reader, "timepoint_date": date,
                           "lesion_id": lid, "role": "target", "organ": organ,
                           "is_nodal": "true" if nodal else "false", "long_axis_mm": "",
                           "short_axis_mm": "", "viable_long_axis_mm": "", "status": "measured"}
                    if k and rng.random() < 0.01:
                        row["status"] = "not-evaluated"
                    else:
                        m = _measure(rng, t_long, READER_BIAS[r], 0.06, 1.5)
                        if nodal:
                            row["long_axis_mm"] = round(m * 1.3, 1)
                            row["short_axis_mm"] = m
                        else:
                            row["long_axis_mm"] = m
                            v = 0.0 if t_via < 3 else min(_measure(rng, t_via, READER_BIAS[r],
                                                                   0.10, 2.0), m)
                            row["viable_long_axis_mm"] = v
                    rows.append(row)
            for reader in readers:  # a non-target (multifocal liver disease)
                status = "present"
                if group == "complete" and k and months <= ttp:
                    status = "absent"  # no enhancing non-target tumour left
                if months > ttp + 3 and rng.random() < 0.3:
                    status = "progression"
                rows.append({"patient_id": pid, "reader_id": reader, "timepoint_date": date,
                             "lesion_id": "NT1", "role": "non-target", "organ": "liver",
                             "is_nodal": "false", "long_axis_mm": "", "short_axis_mm": "",
                             "viable_long_axis_mm": "", "status": status})
                if k and months >= new_at and rng.random() < 0.9:
                    rows.append({"patient_id": pid, "reader_id": reader, "timepoint_date": date,
                                 "lesion_id": "NEW1", "role": "new", "organ": "liver",
                                 "is_nodal": "false", "long_axis_mm": NEW_LESION_MM,
                                 "short_axis_mm": "", "viable_long_axis_mm": "",
                                 "status": "measured"})
        # progression is seen at the first scan after it (scans every 12 weeks while followed)
        scan = SCAN_WEEKS * 7 / 30.44
        seen = math.ceil(ttp / scan) * scan if ttp > 0 else scan
        pfs = min(seen, os_months, censor)
        clinical.append({"patient_id": pid, "os_months": round(min(os_months, censor), 2),
                         "os_event": int(os_months <= censor), "pfs_months": round(pfs, 2),
                         "pfs_event": int(min(seen, os_months) <= censor), "group": group})
        burden.append({"patient_id": pid, "reader_id": "", "timepoint_date": str(start),
                       "htb_method": "volumetric", "htb_pct": round(htb, 2)})
    _add_covariates(clinical, burden, seed)
    treatments = _treatments(rows, seed)
    names = ("measurements", "clinical", "burden", "truth", "treatments")
    paths = {name: out / f"{name}.csv" for name in names}
    for name, data in (("measurements", rows), ("clinical", clinical), ("burden", burden),
                       ("truth", truth), ("treatments", treatments)):
        tmp = paths[name].with_suffix(".csv.part")
        pd.DataFrame(data).to_csv(tmp, index=False)
        tmp.replace(paths[name])
    return paths


def _add_covariates(clinical: list[dict], burden: list[dict], seed: int) -> None:
    """Append the baseline covariates to each clinical row, from a generator of their own
    (seeded by ``seed`` and 13), so that nothing drawn before changes."""
    rng = np.random.default_rng([seed, 13])
    for row, htb in zip(clinical, burden, strict=True):
        grades, pancreas = GROUP_COVARIATES[row["group"]]
        other = (1 - pancreas) / 2
        row.update(age=int(np.clip(round(rng.normal(63, 10)), 25, 90)),
                   sex="female" if rng.random() < 0.45 else "male",
                   ki67_grade=("G1", "G2", "G3")[rng.choice(3, p=grades)],
                   primary_site=("pancreas", "small bowel", "other")[
                       rng.choice(3, p=(pancreas, other, other))],
                   htb_pct=htb["htb_pct"])


def _treatments(rows: list[dict], seed: int) -> list[dict]:
    """TACE 1 to 7 days after the baseline scan; again 3 to 10 days after the second follow-up
    scan (60 %) and after the third (half of those), from a generator of their own."""
    rng = np.random.default_rng([seed, 17])
    scans: dict[str, set[str]] = {}
    for row in rows:
        scans.setdefault(row["patient_id"], set()).add(row["timepoint_date"])
    out = []
    for pid, seen in scans.items():
        dates = sorted(seen)
        when = [np.datetime64(dates[0]) + np.timedelta64(int(rng.integers(1, 8)), "D")]
        if len(dates) >= 4 and rng.random() < 0.6:
            when.append(np.datetime64(dates[2]) + np.timedelta64(int(rng.integers(3, 11)), "D"))
            if len(dates) >= 5 and rng.random() < 0.5:
                when.append(np.datetime64(dates[3]) + np.timedelta64(int(rng.integers(3, 11)), "D"))
        out += [{"patient_id": pid, "treatment_date": str(w), "kind": "TACE"} for w in when]
    return out


def _measure(rng: np.random.Generator, true_mm: float, bias: float, prop: float,
             add: float) -> float:
    value = true_mm * (1 + bias + rng.normal(0, prop)) + rng.normal(0, add)
    return round(max(value, 0.0), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--patients", type=int, default=300)
    parser.add_argument("--readers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    paths = generate_cohort(args.out, args.patients, args.readers, args.seed)
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
