"""CDISC SDTM tumour domains in: TU (identification) + TR (results) → the measurements table.

One read per subject × evaluator: ``patient_id`` = USUBJID, ``reader_id`` = TREVALID (the
independent assessor, e.g. ``RADIOLOGIST 1``) or TREVAL where it is empty (``INVESTIGATOR``).
A lesion is its link id (TRLNKID = TULNKID: T01, NT01, NEW01), its role TU.TUORRES (TARGET /
NON-TARGET / NEW), its organ TU.TULOC (lower case), nodal when TULOC names a lymph node.
Results (docs/exchange.md, "SDTM"):

* ``LDIAM`` (Longest Diameter) → ``long_axis_mm``; ``LPERP`` (Longest Perpendicular) and
  ``SAXIS`` (Short Axis) → ``short_axis_mm`` — for a node the one RECIST sums (RECIST 1.1 section
  3.3: the short axis is perpendicular to the long axis); in standard units TRSTRESN / TRSTRESU
  (mm, cm);
* ``TUMSTATE`` (Tumour State, non-target and new lesions) → the status: PRESENT, ABSENT,
  UNEQUIVOCAL PROGRESSION, NOT EVALUABLE / NE, EQUIVOCAL, TOO SMALL TO MEASURE;
* a target row with no number and NE / NOT EVALUABLE → ``not-evaluated``, TOO SMALL TO MEASURE →
  ``too-small``;
* the date is TRDTC as given (partial dates such as ``2014-02`` are completed by
  ``assess --impute-partial-dates first|mid|last``, or refused without it).

Every row that does not become a value (another TRTESTCD, an unknown state) is a note, never
dropped unseen; a TR row whose lesion is not in TU is an error naming the file and line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from response_tool.domain.errors import MeasurementInputError

#: TUMSTATE (and target results given as text) → status (docs/measurements-csv.md)
STATES = {"PRESENT": "present", "ABSENT": "absent", "UNEQUIVOCAL PROGRESSION": "progression",
          "NOT EVALUABLE": "not-evaluated", "NE": "not-evaluated", "NOT ASSESSED":
          "not-evaluated", "EQUIVOCAL": "equivocal", "TOO SMALL TO MEASURE": "too-small",
          "TOO SMALL": "too-small"}
ROLES = {"TARGET": "target", "NON-TARGET": "non-target", "NEW": "new"}
TO_MM = {"mm": 1.0, "cm": 10.0}
_COLUMNS = ("patient_id", "reader_id", "timepoint_date", "lesion_id", "role", "organ", "is_nodal",
            "long_axis_mm", "short_axis_mm", "status")


@dataclass
class SdtmInput:
    """The measurements table read from TU + TR, and the notes of what was not used."""

    frame: Any
    notes: list[str] = field(default_factory=list)


def reader_of(row: dict[str, str], prefix: str) -> str:
    return (row.get(f"{prefix}EVALID") or "").strip() or (row.get(f"{prefix}EVAL") or "").strip() \
        or "UNKNOWN"


def _rows(path: Path, domain: str, needed: tuple[str, ...]) -> list[dict[str, str]]:
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise MeasurementInputError(f"{path}: cannot be read ({exc.strerror or exc}); check the "
                                    "path") from exc
    cols = set(rows[0]) if rows else set()
    missing = [c for c in needed if c not in cols]
    if not rows or missing:
        raise MeasurementInputError(f"{path}: not an SDTM {domain} table (missing "
                                    f"{', '.join(missing) or 'rows'}); give the {domain} domain "
                                    "as CSV")
    return rows


def read_sdtm(tu: str | os.PathLike[str], tr: str | os.PathLike[str]) -> SdtmInput:
    """TU + TR (CSV) as the engine's measurements table (see the module docstring)."""
    import pandas as pd

    tu_path, tr_path = Path(tu), Path(tr)
    tus = _rows(tu_path, "TU", ("USUBJID", "TULNKID", "TUORRES", "TULOC"))
    trs = _rows(tr_path, "TR", ("USUBJID", "TRLNKID", "TRTESTCD", "TRORRES", "TRDTC"))
    notes: list[str] = []
    lesions: dict[tuple[str, str, str], tuple[str, str, bool]] = {}
    for line, r in enumerate(tus, start=2):
        if r.get("TUTESTCD", "TUMIDENT") not in ("TUMIDENT", ""):
            notes.append(f"{tu_path.name} line {line}: TUTESTCD {r['TUTESTCD']} not used")
            continue
        role = ROLES.get(r["TUORRES"].strip().upper())
        if role is None:
            raise MeasurementInputError(f"{tu_path} line {line}: TUORRES {r['TUORRES']!r} is not "
                                        "TARGET, NON-TARGET or NEW")
        organ = r["TULOC"].strip().lower() or "unspecified"
        lesions[(r["USUBJID"], reader_of(r, "TU"), r["TULNKID"])] = (
            role, organ, "lymph node" in organ or organ == "node")
    values: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for line, r in enumerate(trs, start=2):
        reader = reader_of(r, "TR")
        key = (r["USUBJID"], reader, r["TRLNKID"])
        if key not in lesions:
            raise MeasurementInputError(
                f"{tr_path} line {line}: lesion {r['TRLNKID']} of {r['USUBJID']} ({reader}) is "
                f"not in {tu_path.name}; every TR lesion needs its TU row (TULNKID)")
        date = r["TRDTC"].strip()[:10]
        if not date:
            raise MeasurementInputError(f"{tr_path} line {line}: TRDTC is empty; every result "
                                        "needs its date")
        row = values.setdefault((*key, date), {})
        test = r["TRTESTCD"].strip().upper()
        text = (r.get("TRSTRESC") or r["TRORRES"]).strip().upper()
        number = (r.get("TRSTRESN") or "").strip()
        unit = (r.get("TRSTRESU") or r.get("TRORRESU") or "mm").strip()
        if test in ("LDIAM", "LPERP", "SAXIS"):
            column = "long_axis_mm" if test == "LDIAM" else "short_axis_mm"
            if number:
                if unit not in TO_MM:
                    raise MeasurementInputError(f"{tr_path} line {line}: unit {unit!r}; use mm "
                                                "or cm")
                row[column] = round(float(number) * TO_MM[unit], 4)
            elif text in STATES:
                row["status"] = STATES[text]
            else:
                notes.append(f"{tr_path.name} line {line}: {test} {r['TRORRES']!r}: no number, "
                             "not used")
        elif test == "TUMSTATE":
            if text in STATES:
                row["status"] = STATES[text]
            else:
                notes.append(f"{tr_path.name} line {line}: TUMSTATE {r['TRORRES']!r} unknown; "
                             "not used")
        else:
            notes.append(f"{tr_path.name} line {line}: TRTESTCD {test} not used")
    out = []
    for (patient, reader, lid, date), v in sorted(values.items()):
        role, organ, nodal = lesions[(patient, reader, lid)]
        status = v.get("status") or ("measured" if "long_axis_mm" in v or "short_axis_mm" in v
                                     else "not-evaluated")
        out.append((patient, reader, date, lid, role, organ, nodal, v.get("long_axis_mm"),
                    v.get("short_axis_mm"), status))
    return SdtmInput(pd.DataFrame(out, columns=list(_COLUMNS)), notes)
