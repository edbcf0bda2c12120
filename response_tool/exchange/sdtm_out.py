"""A read's measurements and responses as CDISC SDTM TU / TR / RS and ADaM ADRS (CSV).

Shaped as pharmaverse's examples (pharmaversesdtm ``tu_onco_recist`` / ``tr_onco_recist`` /
``rs_onco_recist``, pharmaverseadam ``adrs_onco``, built with admiralonco), so the tables load into
admiralonco's derivations (docs/exchange.md has an R snippet):

* evaluator: RSEVAL ``INVESTIGATOR`` for the reader id ``INVESTIGATOR``, ``ADJUDICATION
  COMMITTEE`` for the adjudicated read (``ADJ``, RSACPTFL ``Y``), else ``INDEPENDENT ASSESSOR``
  with RSEVALID = the reader id (e.g. ``RADIOLOGIST 1``);
* RS: RSTESTCD OVRLRESP / TRGRESP / NTRGRESP / NEWLIND per follow-up, RSCAT the criterion
  (``RECIST 1.1`` / ``mRECIST``), responses in CDISC terms (CR, PR, SD, NON-CR/NON-PD, PD, NE;
  NEWLIND Y / N; an equivocal new lesion is N with the reason left to the responses file) — a
  response of ``NONE`` (no disease of that kind) is not written;
* TU: TUTESTCD TUMIDENT, TUORRES TARGET / NON-TARGET / NEW, TULOC the organ (upper case), TULNKID
  the lesion id; TR: LDIAM (long axis), LPERP (short axis) in mm, TUMSTATE for a lesion without
  a diameter (PRESENT, ABSENT, UNEQUIVOCAL PROGRESSION, NOT EVALUABLE, EQUIVOCAL, TOO SMALL TO
  MEASURE);
* ADRS: PARAMCD OVR (per follow-up), BOR, CBOR per subject × evaluator × criterion; AVALC the
  response, AVAL admiralonco's coding (CR 1, PR 2, SD 3, NON-CR/NON-PD 4, PD 5, NE 6, MISSING 7),
  ADT the date, PARCAT1 ``Tumor Response``, PARCAT2 the evaluator, PARCAT3 the criterion.

VISIT / VISITNUM are ours (``BASELINE`` 1, ``FOLLOW-UP k`` k+1): the measurements table has dates,
not a protocol's visits.
"""

from __future__ import annotations

import math
from typing import Any

from response_tool.domain.vocabulary import ADJUDICATOR

CRITERION_CAT = {"recist1.1": "RECIST 1.1", "mrecist": "mRECIST"}
AVAL = {"CR": 1, "PR": 2, "SD": 3, "NON-CR/NON-PD": 4, "PD": 5, "NE": 6, "MISSING": 7}
STATE_OF = {"present": "PRESENT", "absent": "ABSENT", "progression": "UNEQUIVOCAL PROGRESSION",
            "not-evaluated": "NOT EVALUABLE", "equivocal": "EQUIVOCAL",
            "too-small": "TOO SMALL TO MEASURE"}
ROLE_OF = {"target": "TARGET", "non-target": "NON-TARGET", "new": "NEW"}
_PARAM = {
    "OVR": "Overall Response by {who}",
    "BOR": "Best Overall Response by {who} (confirmation not required)",
    "CBOR": "Best Confirmed Overall Response by {who}",
}


def _text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    s = str(v)
    return "" if s in ("NaT", "nan", "None") else s


def evaluator(reader_id: str) -> tuple[str, str, str]:
    """(RSEVAL, RSEVALID, RSACPTFL) of a reader id."""
    if reader_id.upper() == "INVESTIGATOR":
        return "INVESTIGATOR", "", ""
    if reader_id == ADJUDICATOR:
        return "ADJUDICATION COMMITTEE", "", "Y"
    return "INDEPENDENT ASSESSOR", reader_id, ""


def _visits(dates: list[str]) -> dict[str, tuple[int, str]]:
    return {d: (k + 1, "BASELINE" if k == 0 else f"FOLLOW-UP {k}")
            for k, d in enumerate(sorted(set(dates)))}


def _assessed(raw: str, assessed: list[str]) -> str:
    """The date ``assess`` used for a collected date: itself, or the completion of a partial one
    (``2014-02`` → ``2014-02-28`` with --impute-partial-dates last)."""
    if raw in assessed or len(raw) >= 10:
        return raw
    return next((d for d in assessed if d.startswith(raw)), raw)


def _flag(raw: str) -> str:
    """ADaM's date imputation flag (ADTF): D day imputed, M month and day, Y year too."""
    return {10: "", 7: "D", 4: "M"}.get(len(raw), "Y" if raw else "")


def sdtm_tables(measurements: Any, timepoints: Any, best: Any, studyid: str = "STUDY"
                ) -> dict[str, Any]:
    """{"tu", "tr", "rs", "adrs"} data frames from the measurements table and ``assess()``'s
    time-point and best-response tables."""
    import pandas as pd

    m = measurements.copy()
    m["raw_date"] = m["timepoint_date"].map(lambda d: _text(d)[:10])
    tps = timepoints.copy()
    tps["date"] = tps["timepoint_date"].map(lambda d: _text(d)[:10])
    assessed = {key: sorted(set(g["date"])) for key, g in tps.groupby(["patient_id", "reader_id"],
                                                                          observed=True)}
    m["timepoint_date"] = [_assessed(raw, assessed.get((p, r), [])) for raw, p, r in
                           zip(m["raw_date"], m["patient_id"], m["reader_id"], strict=True)]
    raw_of = {(p, r, d): raw for p, r, d, raw in
              zip(m["patient_id"], m["reader_id"], m["timepoint_date"], m["raw_date"], strict=True)}
    visits = {key: _visits(list(g["timepoint_date"]))
              for key, g in m.groupby(["patient_id", "reader_id"], observed=True)}
    tu, tr = [], []
    for (pid, rid), g in m.groupby(["patient_id", "reader_id"], sort=True, observed=True):
        ev, evid, _ = evaluator(str(rid))
        first = g.sort_values("timepoint_date").drop_duplicates("lesion_id")
        for r in first.itertuples():
            num, visit = visits[(pid, rid)][r.timepoint_date]
            tu.append({"STUDYID": studyid, "DOMAIN": "TU", "USUBJID": pid, "TULNKID": r.lesion_id,
                       "TUTESTCD": "TUMIDENT", "TUTEST": "Tumor Identification",
                       "TUORRES": ROLE_OF[str(r.role)], "TUSTRESC": ROLE_OF[str(r.role)],
                       "TULOC": str(r.organ).upper(), "TUEVAL": ev, "TUEVALID": evid,
                       "VISITNUM": num, "VISIT": visit, "TUDTC": r.raw_date})
        for r in g.sort_values(["timepoint_date", "lesion_id"]).itertuples():
            num, visit = visits[(pid, rid)][r.timepoint_date]
            base = {"STUDYID": studyid, "DOMAIN": "TR", "USUBJID": pid, "TRLNKID": r.lesion_id,
                    "TRGRPID": ROLE_OF[str(r.role)], "TREVAL": ev, "TREVALID": evid,
                    "VISITNUM": num, "VISIT": visit, "TRDTC": r.raw_date}
            values = [(c, t, n) for c, t, n in (("LDIAM", "Longest Diameter", r.long_axis_mm),
                                                ("LPERP", "Longest Perpendicular",
                                                 r.short_axis_mm)) if _text(n) != ""]
            if str(r.status) == "measured" and values:
                for code, test, number in values:
                    tr.append({**base, "TRTESTCD": code, "TRTEST": test,
                               "TRORRES": f"{float(number):g}", "TRORRESU": "mm",
                               "TRSTRESC": f"{float(number):g}", "TRSTRESN": float(number),
                               "TRSTRESU": "mm"})
            else:
                state = STATE_OF.get(str(r.status), "PRESENT")
                tr.append({**base, "TRTESTCD": "TUMSTATE", "TRTEST": "Tumor State",
                           "TRORRES": state, "TRORRESU": "", "TRSTRESC": state, "TRSTRESN": None,
                           "TRSTRESU": ""})
    rs, adrs = [], []
    for r in tps.sort_values(["patient_id", "reader_id", "criterion", "date"]).itertuples():
        if _text(getattr(r, "is_baseline", "")).lower() in ("true", "1"):
            continue
        ev, evid, accepted = evaluator(str(r.reader_id))
        num, visit = visits.get((r.patient_id, r.reader_id), {}).get(r.date, (None, ""))
        cat = CRITERION_CAT.get(str(r.criterion), str(r.criterion))
        new = {"yes": "Y", "no": "N", "equivocal": "N"}.get(_text(r.new_lesions), "")
        for code, test, value in (("OVRLRESP", "Overall Response", _text(r.overall_response)),
                                  ("TRGRESP", "Target Response", _text(r.target_response)),
                                  ("NTRGRESP", "Non-target Response",
                                   _text(r.non_target_response)),
                                  ("NEWLIND", "New Lesion Indicator", new)):
            if value in ("", "NONE"):
                continue
            rs.append({"STUDYID": studyid, "DOMAIN": "RS", "USUBJID": r.patient_id,
                       "RSCAT": cat, "RSTESTCD": code, "RSTEST": test, "RSORRES": value,
                       "RSSTRESC": value, "RSEVAL": ev, "RSEVALID": evid, "RSACPTFL": accepted,
                       "VISITNUM": num, "VISIT": visit,
                       "RSDTC": raw_of.get((r.patient_id, r.reader_id, r.date), r.date)})
        if _text(r.overall_response):
            adrs.append(_adrs(studyid, r.patient_id, ev, evid, cat, "OVR",
                              _text(r.overall_response), r.date, visit,
                              _flag(raw_of.get((r.patient_id, r.reader_id, r.date), r.date))))
    for b in best.sort_values(["patient_id", "reader_id", "criterion"]).itertuples():
        ev, evid, _ = evaluator(str(b.reader_id))
        cat = CRITERION_CAT.get(str(b.criterion), str(b.criterion))
        for code, value, date in (
                ("BOR", _text(b.best_overall_response), _text(b.best_overall_response_date)),
                ("CBOR", _text(b.confirmed_best_overall_response), _text(b.confirmed_bor_date))):
            adrs.append(_adrs(studyid, b.patient_id, ev, evid, cat, code, value or "MISSING",
                              date[:10], ""))
    tables = {"tu": tu, "tr": tr, "rs": rs, "adrs": adrs}
    out = {}
    for name, rows in tables.items():
        frame = pd.DataFrame(rows)
        if len(frame):
            seq = f"{name.upper()[:2]}SEQ" if name != "adrs" else "ASEQ"
            frame[seq] = frame.groupby("USUBJID").cumcount() + 1
        out[name] = frame
    return out


def _adrs(studyid: str, pid: str, ev: str, evid: str, cat: str, paramcd: str, value: str,
          date: str, visit: str, flag: str = "") -> dict[str, Any]:
    who = "Investigator" if ev == "INVESTIGATOR" else (evid.title() or ev.title())
    return {"STUDYID": studyid, "USUBJID": pid, "PARAMCD": paramcd,
            "PARAM": _PARAM[paramcd].format(who=who), "PARCAT1": "Tumor Response",
            "PARCAT2": who, "PARCAT3": cat, "AVALC": value, "AVAL": float(AVAL.get(value, 7)),
            "ADT": date, "ADTF": flag, "AVISIT": visit, "RSEVAL": ev, "RSEVALID": evid, "ANL01FL": "Y"}


def assessed_tables(frame: Any, result: Any, studyid: str = "STUDY", export: Any = None
                    ) -> dict[str, Any]:
    """:func:`sdtm_tables` of a validated measurements frame (``validate`` / ``read_measurements``
    with its partial dates completed) and its ``assess()`` result: SDTM keeps the dates as
    collected (``2014-02``), ADaM the completed ones. ``export`` (an
    :class:`~response_tool.io.export.ExportOptions`) pseudonymises the subjects and shifts the
    dates of every table as it does the responses; a shifted partial date is written completed
    (shifting ``2014-02`` by some days has no month to keep)."""
    measured = frame.copy()
    dates = measured["timepoint_date"].dt.strftime("%Y-%m-%d")
    shifting = export is not None and bool(getattr(export, "shift_days", 0))
    if "_imputed_date" in measured and not shifting:
        collected = measured["_imputed_date"].astype(str)
        dates = collected.where(collected.str.strip() != "", dates)
    measured["timepoint_date"] = dates.to_numpy()
    measured = measured.drop(columns=[c for c in measured.columns if c.startswith("_")])
    if export is not None and export.active:
        measured, result = export.apply(measured), result.exported(export)
    return sdtm_tables(measured, result.timepoints, result.best_response, studyid)
