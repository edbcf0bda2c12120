"""DICOM SR TID 1500 back into a read: ours, and those OHIF, 3D Slicer or dcmqi write.

The content tree is walked item by item (pydicom), so nothing is dropped unseen: every item that
does not become part of the read is named in :attr:`ImportedSR.notes` (docs/exchange.md, "SR
import"). A measurement group becomes a lesion when it holds a length (long axis, short axis,
length, diameter, our viable long axis) or our lesion role; a group of other measurements (an
organ's volume, a mean HU) is listed as not imported, with its values.

Lines: a SCOORD is placed in patient space through the header of the image it references (an
:class:`~.images.ImageIndex` of the patient's folder); a SCOORD3D is in patient space already.
Without the images the diameters, statuses and lesion ids are imported, the lines are not (said
in the notes).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from response_tool.domain.errors import ResponseToolError
from response_tool.domain.model import Lesion, Measurement
from response_tool.domain.vocabulary import Criterion, Role, Status

from . import codes as C
from .images import ImageIndex


class SRImportError(ResponseToolError):
    """A file cannot be imported as a TID 1500 measurement report."""


_DCM = "DCM"
_IMAGING_MEASUREMENTS = (_DCM, "126010")
_MEASUREMENT_GROUP = (_DCM, "125007")
_TRACKING_ID = (_DCM, "112039")
_TRACKING_UID = (_DCM, "112040")
_FINDING_SITE = ("SCT", "363698007")
_METHOD = ("SCT", "370129005")
_PERSON_NAME = (_DCM, "121008")
_DEVICE_NAME = (_DCM, "121013")
_COMMENT = (_DCM, "121106")
_SUBJECT_TP = (_DCM, "126070")
#: Items of the report and of a group that carry context we read or need not keep.
_KNOWN_ROOT = {(_DCM, "121049"), (_DCM, "121005"), _PERSON_NAME, _DEVICE_NAME, (_DCM, "121012"),
               (_DCM, "121014"), (_DCM, "121015"), (_DCM, "121058"), (_DCM, "111028"),
               ("SCT", "121058"), (_DCM, "121011"), (_DCM, "121009"), (_DCM, "121010")}
_KNOWN_GROUP = {_TRACKING_ID, _TRACKING_UID, (_DCM, "126072"), (_DCM, "126073"), _SUBJECT_TP,
                (_DCM, "126071"), ("UMLS", "C2348792"), ("NCIt", "C67447"), (_DCM, "111001"),
                (_DCM, "111003"), (_DCM, "111002"), (_DCM, "121071"), ("DCM", "276214006"),
                ("SCT", "276214006")}
_ROLE_OF = {C.key(v): r for r, v in C.ROLE_CODES.items()}
_STATUS_OF = {C.key(v): s for s, v in C.STATUS_CODES.items()}
_SITE_OF = {C.key(v): str(o) for o, v in C.SITE_CODES.items()}
_CRITERION_OF = {C.key(v): c for c, v in C.CRITERION_CODES.items()}
_RESPONSE_OF = {C.key(v): str(r) for r, v in C.RESPONSE_CODES.items()}


@dataclass
class ImportedSR:
    """One SR read back: one time point of one reader's read, and what was not imported."""

    path: Path
    patient_id: str
    reader_id: str
    date: str
    study_uid: str | None
    lesions: list[Lesion] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    #: what the SR held that is not in the read, and every assumption made (one line each)
    notes: list[str] = field(default_factory=list)
    #: the responses the SR states, per criterion (overall, target, ...; the read's own are
    #: recomputed by ``assess``, these are for comparison)
    responses: dict[str, dict[str, str]] = field(default_factory=dict)


def _name(item: Any) -> tuple[str, str]:
    seq = item.get("ConceptNameCodeSequence")
    return C.key(seq[0]) if seq else ("", "")


def _meaning(item: Any) -> str:
    seq = item.get("ConceptNameCodeSequence")
    return str(seq[0].get("CodeMeaning", "?")) if seq else str(item.get("ValueType", "?"))


def _code(item: Any) -> Any:
    seq = item.get("ConceptCodeSequence")
    return seq[0] if seq else None


def _describe(item: Any) -> str:
    vt = item.get("ValueType", "")
    if vt == "NUM":
        mv = (item.get("MeasuredValueSequence") or [None])[0]
        if mv is None:
            return f"NUM {_meaning(item)} (no value)"
        unit = mv.MeasurementUnitsCodeSequence[0].CodeValue
        mods = [str(_code(c).CodeMeaning) for c in item.get("ContentSequence", [])
                if c.get("ValueType") == "CODE" and _code(c) is not None]
        modifiers = f" ({', '.join(mods)})" if mods else ""
        return f"NUM {_meaning(item)}{modifiers} = {mv.NumericValue} {unit}"
    if vt == "CODE" and _code(item) is not None:
        return f"{_meaning(item)} = {_code(item).CodeMeaning}"
    if vt == "TEXT":
        return f"{_meaning(item)} = {item.get('TextValue', '')!r}"
    return f"{vt} {_meaning(item)}"


def _evidence_series(ds: Any) -> dict[str, str]:
    """SOP instance UID → series UID, from the SR's evidence sequences."""
    out = {}
    for name in ("CurrentRequestedProcedureEvidenceSequence", "PertinentOtherEvidenceSequence"):
        for study in ds.get(name, []):
            for series in study.get("ReferencedSeriesSequence", []):
                for sop in series.get("ReferencedSOPSequence", []):
                    out[str(sop.ReferencedSOPInstanceUID)] = str(series.SeriesInstanceUID)
    return out


def _iso(value: Any) -> str | None:
    text = str(value or "").strip()
    try:
        return dt.datetime.strptime(text[:8], "%Y%m%d").date().isoformat() if text else None
    except ValueError:
        return None


class _Group:
    """One measurement group being read."""

    def __init__(self, item: Any, n: int, reader: _Reader) -> None:
        self.r, self.n = reader, n
        self.tracking = ""
        self.site: str | None = None
        self.role: Role | None = None
        self.nodal: bool | None = None
        self.status: Status | None = None
        self.comment = ""
        self.criterion: Criterion | None = None
        self.response: dict[str, str] = {}
        self.diameters: dict[str, tuple[float, Any, str | None]] = {}
        self.mark: tuple[Any, str | None] | None = None  # (point or None, series)
        self.other: list[str] = []
        for child in item.get("ContentSequence", []):
            self._item(child)

    @property
    def label(self) -> str:
        return f"{self.r.path.name}: group {self.n} ({self.tracking or 'no tracking id'})"

    def _item(self, it: Any) -> None:
        name, vt = _name(it), it.get("ValueType", "")
        code = _code(it) if vt == "CODE" else None
        if name == _TRACKING_ID:
            self.tracking = str(it.get("TextValue", "")).strip()
        elif name in _KNOWN_GROUP:
            return
        elif name == _FINDING_SITE and code is not None:
            k = C.key(code)
            self.site = (str(code.CodeMeaning) if k == (C.SCHEME, C.SITE_TEXT) else
                         _SITE_OF.get(k, str(code.CodeMeaning).lower()))
        elif name == _METHOD and code is not None and C.key(code) in _CRITERION_OF:
            self.criterion = _CRITERION_OF[C.key(code)]
        elif name == C.key(C.ROLE) and code is not None and C.key(code) in _ROLE_OF:
            self.role = _ROLE_OF[C.key(code)]
        elif name == C.key(C.NODAL) and code is not None:
            self.nodal = C.key(code) == C.key(C.YES_NO[True])
        elif name == C.key(C.STATUS) and code is not None and C.key(code) in _STATUS_OF:
            self.status = _STATUS_OF[C.key(code)]
        elif name == _COMMENT and vt == "TEXT":
            self.comment = str(it.TextValue)
        elif self._response(name, code):
            return
        elif vt == "NUM" and name in C.LENGTH_CONCEPTS:
            self._length(it, C.LENGTH_CONCEPTS[name])
        elif vt in ("SCOORD", "SCOORD3D") and it.get("GraphicType") == "POINT":
            point = self.r.points(it, self.label)
            if point is not None:
                self.mark = (point[0][0] if point[0] else None, point[1])
        else:
            self.other.append(_describe(it))

    def _response(self, name: tuple[str, str], code: Any) -> bool:
        fields = {C.key(C.OVERALL_RESPONSE): "overall_response",
                  C.key(C.TARGET_RESPONSE): "target_response",
                  C.key(C.NON_TARGET_RESPONSE): "non_target_response",
                  C.key(C.NEW_LESIONS): "new_lesions", C.key(C.DECIDING_RULE): "rule_id"}
        if name not in fields or code is None:
            return False
        k = C.key(code)
        if name == C.key(C.DECIDING_RULE):
            value = k[1]
        elif name == C.key(C.NEW_LESIONS):
            value = {C.key(v): t for t, v in C.NEW_LESION_CODES.items()}.get(k, str(code.CodeMeaning))
        else:
            value = "" if k == C.key(C.BASELINE) else _RESPONSE_OF.get(k, str(code.CodeMeaning))
        self.response[fields[name]] = value
        return True

    def _length(self, it: Any, kind: str) -> None:
        mv = (it.get("MeasuredValueSequence") or [None])[0]
        if mv is None:
            self.other.append(_describe(it))
            return
        unit = str(mv.MeasurementUnitsCodeSequence[0].CodeValue)
        if unit not in C.UNIT_TO_MM:
            self.other.append(f"{_describe(it)} (unit {unit!r} is not a length)")
            return
        if kind in self.diameters:
            self.other.append(f"{_describe(it)} (a second {kind} axis in the group)")
            return
        value = round(float(mv.NumericValue) * C.UNIT_TO_MM[unit], 6)
        ends, series = None, None
        for child in it.get("ContentSequence", []):
            if child.get("ValueType") in ("SCOORD", "SCOORD3D"):
                placed = self.r.points(child, f"{self.label} {_meaning(it)}")
                if placed is not None and len(placed[0]) >= 2:
                    ends, series = (placed[0][0], placed[0][-1]), placed[1]
                elif placed is not None:
                    series = placed[1]
            elif child.get("ValueType") == "CODE":
                continue  # modifiers (method, derivation) of the length
            else:
                self.other.append(f"{_describe(child)} under {_meaning(it)}")
        self.diameters[kind] = (value, ends, series)


class _Reader:
    def __init__(self, path: Path, ds: Any, images: ImageIndex | None) -> None:
        self.path, self.ds, self.images = path, ds, images
        self.sop_series = _evidence_series(ds)
        self.notes: list[str] = []
        self._no_images_said = False

    def points(self, item: Any, where: str) -> tuple[list[Any], str | None] | None:
        """The points of a SCOORD / SCOORD3D in patient mm (z, y, x) and the series of its image
        (None: cannot be placed; said in the notes)."""
        data = [float(v) for v in item.GraphicData]
        if item.ValueType == "SCOORD3D":
            pts = [(data[i + 2], data[i + 1], data[i]) for i in range(0, len(data), 3)]
            return pts, None
        refs = [c for c in item.get("ContentSequence", []) if c.get("ValueType") == "IMAGE"]
        sop = str(refs[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID) if refs else None
        series = self.sop_series.get(sop or "")
        image = self.images.image(sop) if self.images is not None and sop else None
        if image is None:
            if self.images is None and not self._no_images_said:
                self.notes.append(f"{self.path.name}: lines not placed (no --images folder): the "
                                  "diameters are imported, their endpoints are not")
                self._no_images_said = True
            elif self.images is not None:
                self.notes.append(f"{where}: its image {sop} is not under {self.images.root}; "
                                  "the line's endpoints are not imported")
            return None if series is None else ([], series)
        pts = [image.to_patient(data[i], data[i + 1]) for i in range(0, len(data), 2)]
        return pts, series or image.series_uid


def _observer(ds: Any, reader: str | None, path: Path) -> str:
    if reader:
        return reader
    person = device = None
    for it in ds.get("ContentSequence", []):
        if _name(it) == _PERSON_NAME and person is None:
            person = str(it.PersonName).rstrip("^").strip()
        if _name(it) == _DEVICE_NAME and device is None:
            device = str(it.TextValue).strip()
    if person or device:
        return person or f"device {device}"
    raise SRImportError(f"{path}: the SR names no observer (person or device); give the reader "
                        "with --reader")


def read_sr(path: str | os.PathLike[str], images: ImageIndex | None = None,
            reader: str | None = None) -> ImportedSR:
    """Read one TID 1500 SR file (see the module docstring)."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    p = Path(path)
    try:
        ds = pydicom.dcmread(p)
    except (InvalidDicomError, OSError, ValueError) as exc:
        raise SRImportError(f"{p}: not a readable DICOM file ({exc}); give DICOM SR files") from exc
    if str(ds.get("Modality", "")) != "SR" or "ContentSequence" not in ds:
        raise SRImportError(f"{p}: not a structured report (Modality {ds.get('Modality', '?')}); "
                            "give DICOM SR files")
    title = ds.get("ConceptNameCodeSequence")
    if not title or C.key(title[0]) != (_DCM, "126000"):
        meaning = title[0].CodeMeaning if title else "no title"
        raise SRImportError(f"{p}: SR {meaning!r} is not a TID 1500 Imaging Measurement Report; "
                            "only measurement reports can be imported")
    r = _Reader(p, ds, images)
    groups, notes = [], r.notes
    for it in ds.ContentSequence:
        name = _name(it)
        if name == _IMAGING_MEASUREMENTS:
            for n, g in enumerate(it.get("ContentSequence", []), start=1):
                if _name(g) == _MEASUREMENT_GROUP:
                    groups.append(_Group(g, n, r))
                else:
                    notes.append(f"{p.name}: {_describe(g)} in Imaging Measurements: not imported")
        elif name not in _KNOWN_ROOT:
            notes.append(f"{p.name}: {_describe(it)} ({it.get('ValueType')}): not imported")
    date = next((d for g in ds.ContentSequence if _name(g) == _IMAGING_MEASUREMENTS
                 for grp in g.get("ContentSequence", []) for i in grp.get("ContentSequence", [])
                 if _name(i) == _SUBJECT_TP
                 for d in [_valid_date(i.get("TextValue"))] if d), None)
    date = date or _iso(ds.get("StudyDate"))
    if date is None:
        date = _iso(ds.get("ContentDate"))
        if date is None:
            raise SRImportError(f"{p}: no study date and no content date: the time point is "
                                "unknown; the SR cannot be imported")
        notes.append(f"{p.name}: no StudyDate; the time point is the content date {date}")
    out = ImportedSR(p, str(ds.get("PatientID", "")).strip(), _observer(ds, reader, p), date,
                     str(ds.get("StudyInstanceUID", "")) or None, notes=notes)
    if not out.patient_id:
        raise SRImportError(f"{p}: the SR has no PatientID; it cannot become a read")
    _lesions(out, groups, images)
    return out


def _valid_date(text: Any) -> str | None:
    try:
        return dt.date.fromisoformat(str(text or "").strip()).isoformat()
    except ValueError:
        return None


def _lesions(out: ImportedSR, groups: Sequence[_Group], images: ImageIndex | None) -> None:
    used: set[str] = set()
    for g in groups:
        if g.criterion is not None:
            out.responses[str(g.criterion)] = g.response
            out.notes.extend(f"{g.label}: {o}: not imported" for o in g.other)
            continue
        if not g.diameters and g.role is None:
            what = "; ".join(g.other) if g.other else "nothing"
            out.notes.append(f"{g.label}: no diameter and no lesion role, not a lesion: not "
                             f"imported ({what})")
            continue
        lid = g.tracking
        if not lid or lid in used or ":" in lid or len(lid) > 64:
            new = f"SR{g.n}"
            out.notes.append(f"{g.label}: tracking id {lid!r} is not a usable lesion id (empty, "
                             f"a tool name or repeated); lesion id {new}")
            lid = new
        used.add(lid)
        role = g.role
        if role is None:
            role = Role.TARGET
            out.notes.append(f"{g.label}: no lesion role; read as a target lesion (it has a "
                             "length) — change it in the Reading panel if it is not")
        site = g.site or "unspecified"
        if g.site is None:
            out.notes.append(f"{g.label}: no finding site; organ 'unspecified'")
        nodal = g.nodal if g.nodal is not None else "short" in g.diameters and "long" not in \
            g.diameters
        out.lesions.append(Lesion(lid, role, site, bool(nodal), g.comment))
        out.notes.extend(f"{g.label}: {o}: not imported" for o in g.other)
        fields: dict[str, Any] = {}
        for kind, (value, ends, series) in g.diameters.items():
            col = {"long": "long_axis_mm", "short": "short_axis_mm",
                   "viable": "viable_long_axis_mm"}[kind]
            fields[col] = value
            fields[f"{kind}_endpoints"] = ends
            if kind == "viable":
                fields["viable_series_uid"] = series
            elif series is not None:
                fields.setdefault("series_uid", series)
        if g.mark is not None:
            mark_point, mark_series = g.mark
            if mark_point is not None:
                fields["mark_point"] = mark_point
            if mark_series is not None:
                fields.setdefault("series_uid", mark_series)
        status = g.status or (Status.MEASURED if g.diameters else Status.PRESENT)
        if images is not None:
            _place(fields, images)
        out.measurements.append(Measurement(lid, out.date, status=status, **fields))


def _place(fields: dict[str, Any], images: ImageIndex) -> None:
    """Phase and slice index from the images (the store keeps them with each measurement)."""
    series = fields.get("series_uid")
    point = fields.get("long_endpoints") or fields.get("short_endpoints") or \
        fields.get("mark_point")
    if series and images.has_series(series):
        fields["phase"] = images.phase(series)
        if point is not None:
            first = point[0] if isinstance(point[0], (tuple, list)) else point
            fields["slice_index"] = images.slice_index(series, first)
    viable = fields.get("viable_series_uid")
    if viable and images.has_series(viable):
        fields["viable_phase"] = images.phase(viable)
