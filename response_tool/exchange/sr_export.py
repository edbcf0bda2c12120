"""A read as DICOM SR TID 1500: one Comprehensive 3D SR per read and time point (highdicom).

Each SR holds (docs/exchange.md, "SR"):

* the observer context: the reader as a person observer (TID 1002);
* one measurement group per lesion measured or marked at the time point (TID 1501; TID 1410 with
  a POINT region for a lesion marked with a click), with the lesion id as its Tracking Identifier
  and a Tracking UID derived from patient, reader and lesion id, so it is the same at every time
  point; the time point context (TID 1502: baseline / follow-up k, its order, its date);
* its diameters as NUM items in mm — long and short axis as OHIF writes a bidirectional
  measurement (SCT 103339001 / 103340004), the viable long axis as a private concept
  (:data:`~.codes.VIABLE_LONG_AXIS`, why: there) — each with its line as a SCOORD POLYLINE on the
  referenced image (SOP Instance UID, pixel column/row);
* the lesion's role, lymph-node flag and status as coded qualitative evaluations, its organ as the
  finding site, the reader's override reason as a comment;
* per criterion (RECIST 1.1, mRECIST) a group with the responses of the time point (overall,
  target, non-target, new lesions) and the id of the rule that decided the overall response.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from response_tool.domain.errors import ResponseToolError
from response_tool.domain.model import Lesion, Measurement, Read
from response_tool.domain.vocabulary import Criterion, DiameterKind, Response

from . import codes as C
from .images import ImageIndex

MANUFACTURER = "response-tool"
#: UID root of the Tracking UIDs (pydicom's, with a hash of patient, reader and lesion id)
_KIND_CODE = {DiameterKind.LONG: C.LONG_AXIS, DiameterKind.SHORT: C.SHORT_AXIS,
              DiameterKind.VIABLE: C.VIABLE_LONG_AXIS}
_KIND_SERIES = {DiameterKind.LONG: "series_uid", DiameterKind.SHORT: "series_uid",
                DiameterKind.VIABLE: "viable_series_uid"}


def tracking_uid(patient_id: str, reader_id: str, lesion_id: str) -> str:
    """The lesion's Tracking UID: the same for every time point of the read (and every export)."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=["response-tool tracking", patient_id, reader_id,
                                          lesion_id]))


def site_code(organ: str) -> Any:
    code = C.SITE_CODES.get(organ)  # type: ignore[call-overload]
    if code is not None:
        return code
    return C.private(C.SITE_TEXT, organ[:64])


def person_name(reader_id: str) -> str:
    """The reader id as a DICOM person name: a single component gets its trailing caret (PS3.5
    6.2.1.2: family name only); ``^`` already in it is kept."""
    return reader_id if "^" in reader_id else f"{reader_id}^"


def timepoint_label(k: int) -> str:
    return "baseline" if k == 0 else f"follow-up {k}"


class _Builder:
    """The content of one time point's SR, and the images it references."""

    def __init__(self, read: Read, date: str, k: int, images: ImageIndex) -> None:
        import highdicom as hd

        self.hd, self.read, self.date, self.k, self.images = hd, read, date, k, images
        self.evidence: dict[str, Any] = {}
        self.notes: list[str] = []
        self.tp_context = hd.sr.TimePointContext(
            time_point=timepoint_label(k), time_point_order=k + 1,
            subject_time_point_identifier=date,
            time_point_type=C.codes.DCM.Baseline if k == 0 else None)

    def _image_of(self, series_uid: str | None, point: Any, where: str) -> Any:
        if series_uid is None:
            raise ResponseToolError(f"{where}: the line has no series; it cannot be placed on an "
                                    "image (a read imported from a CSV has no lines to export)")
        ref, on_plane = self.images.nearest_image(series_uid, point, where)
        if not on_plane:
            self.notes.append(f"{where}: the line lies between acquired slices (an interpolated "
                              f"plane); referenced on the nearest image {ref.sop_instance_uid}")
        self.evidence[ref.sop_instance_uid] = self.images.header(ref.sop_instance_uid)
        return ref

    def _scoord(self, ref: Any, points: Sequence[Any], graphic_type: str, where: str) -> Any:
        pixels = []
        for p in points:
            col, row, off = ref.to_pixel(p)
            pixels.append((col, row))
            del off
        return np.asarray(pixels, dtype=float), self.hd.sr.SourceImageForRegion(
            ref.sop_class_uid, ref.sop_instance_uid)

    def _measurement(self, m: Measurement, kind: DiameterKind, les: Lesion) -> Any:
        hd = self.hd
        value = m.diameter(kind)
        ends = m.endpoints(kind)
        where = f"{les.lesion_id} ({m.date}) {kind.value} axis"
        coords = None
        if ends is not None:
            ref = self._image_of(getattr(m, _KIND_SERIES[kind]), ends[0], where)
            data, source = self._scoord(ref, ends, "POLYLINE", where)
            coords = [hd.sr.CoordinatesForMeasurement(
                graphic_type=hd.sr.GraphicTypeValues.POLYLINE, graphic_data=data,
                source_image=source)]
        return hd.sr.Measurement(name=_KIND_CODE[kind], value=float(value),  # type: ignore[arg-type]
                                 unit=C.MM, referenced_coordinates=coords)

    def lesion_group(self, les: Lesion, m: Measurement) -> Any:
        hd = self.hd
        tracking = hd.sr.TrackingIdentifier(
            uid=tracking_uid(self.read.patient_id, self.read.reader_id, les.lesion_id),
            identifier=les.lesion_id)
        measurements = [self._measurement(m, kind, les) for kind in DiameterKind
                        if m.diameter(kind) is not None]
        evaluations = [
            hd.sr.QualitativeEvaluation(C.ROLE, C.ROLE_CODES[les.role]),
            hd.sr.QualitativeEvaluation(C.NODAL, C.YES_NO[les.is_nodal]),
            hd.sr.QualitativeEvaluation(C.STATUS, C.STATUS_CODES[m.status]),
        ]
        common = dict(tracking_identifier=tracking, time_point_context=self.tp_context,
                      finding_sites=[hd.sr.FindingSite(site_code(les.organ))],
                      measurements=measurements or None, qualitative_evaluations=evaluations)
        if m.mark_point is not None and not any(c.get("measurements") for c in [common]):
            # a lesion marked with a click and no line (TID 1410 keeps its lines off the NUMs:
            # a lesion with lines is located by them, its mark is not written)
            where = f"{les.lesion_id} ({m.date}) mark"
            ref = self._image_of(m.series_uid, m.mark_point, where)
            data, source = self._scoord(ref, [m.mark_point], "POINT", where)
            region = hd.sr.ImageRegion(graphic_type=hd.sr.GraphicTypeValues.POINT,
                                       graphic_data=data, source_image=source)
            group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                referenced_region=region, **common)
        else:
            group = hd.sr.MeasurementsAndQualitativeEvaluations(**common)
        if les.override_reason:
            group[0].ContentSequence.append(hd.sr.TextContentItem(
                name=C.codes.DCM.Comment, value=les.override_reason[:1024],
                relationship_type=hd.sr.RelationshipTypeValues.CONTAINS))
        return group

    def response_group(self, criterion: Criterion, row: dict[str, Any]) -> Any:
        hd = self.hd
        q = hd.sr.QualitativeEvaluation

        def text(name: str) -> str:
            v = row.get(name)
            return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)

        evaluations = []
        overall = text("overall_response")
        evaluations.append(q(C.OVERALL_RESPONSE, C.RESPONSE_CODES[Response(overall)]
                             if overall else C.BASELINE))
        for name, concept in (("target_response", C.TARGET_RESPONSE),
                              ("non_target_response", C.NON_TARGET_RESPONSE)):
            if text(name):
                evaluations.append(q(concept, C.RESPONSE_CODES[Response(text(name))]))
        if text("new_lesions"):
            evaluations.append(q(C.NEW_LESIONS, C.NEW_LESION_CODES[text("new_lesions")]))
        rule = text("rule_id")
        if rule:
            evaluations.append(q(C.DECIDING_RULE, hd.sr.CodedConcept(
                rule, C.SCHEME, (text("rule_source") or rule)[:64])))
        tracking = hd.sr.TrackingIdentifier(
            uid=tracking_uid(self.read.patient_id, self.read.reader_id, f"response {criterion}"),
            identifier=f"{criterion.display_name} response")
        return hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=tracking, time_point_context=self.tp_context,
            method=C.CRITERION_CODES[criterion], qualitative_evaluations=evaluations)


def timepoint_srs(read: Read, images: ImageIndex, responses: Any = None,
                  now: dt.datetime | None = None) -> tuple[list[Any], list[str]]:
    """One Comprehensive 3D SR dataset per time point of ``read`` (its lines placed on the images
    under ``images``) and the notes to show the user. ``responses``: ``assess()``'s time-point
    table for this read (default: assessed here). A time point with nothing recorded yet (a
    follow-up not read) has None, and a note: TID 1500 needs at least one measurement group."""
    import highdicom as hd
    from pydicom.uid import generate_uid

    if responses is None:
        from response_tool.assessment import assess

        responses = assess(read.to_frame()).timepoints
    by_date: dict[tuple[str, str], dict[str, Any]] = {}
    for row in responses.to_dict("records"):
        if row["patient_id"] == read.patient_id and row["reader_id"] == read.reader_id:
            by_date[(str(row["timepoint_date"])[:10], str(row["criterion"]))] = row
    dates = read.dates
    study_of = {t.date: t.study_uid for t in read.timepoints}
    datasets: list[Any] = []  # None where a time point has nothing recorded yet
    notes: list[str] = []
    observer = hd.sr.ObserverContext(
        observer_type=C.codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
            name=person_name(read.reader_id)))
    now = now or dt.datetime.now()
    for k, date in enumerate(dates):
        b = _Builder(read, date, k, images)
        ms = [m for m in read.measurements if m.date == date]
        order = {les.lesion_id: i for i, les in enumerate(read.lesions)}
        groups = [b.lesion_group(read.lesion(m.lesion_id), m)
                  for m in sorted(ms, key=lambda m: order[m.lesion_id])]
        groups += [b.response_group(c, by_date[(date, str(c))]) for c in Criterion
                   if (date, str(c)) in by_date]
        if not groups:
            datasets.append(None)
            notes.append(f"{date} ({timepoint_label(k)}): nothing recorded at this time point "
                         "yet, so no SR for it")
            continue
        if not b.evidence:  # nothing placed on an image: the study's images are the evidence
            study = study_of.get(date)
            refs = images.study_images(study) if study else []
            if not refs:
                raise ResponseToolError(
                    f"read of {read.patient_id} by {read.reader_id}, {date}: no line of this time "
                    "point is on an image and its study is not under the images folder; the SR "
                    "needs its study — point --images to the patient folder")
            b.evidence[refs[0].sop_instance_uid] = images.header(refs[0].sop_instance_uid)
        report = hd.sr.MeasurementReport(
            observation_context=hd.sr.ObservationContext(observer_person_context=observer),
            procedure_reported=C.codes.SCT.Imaging, imaging_measurements=groups)
        evidence = list(b.evidence.values())
        sr = hd.sr.Comprehensive3DSR(
            evidence=evidence, content=report, series_instance_uid=generate_uid(),
            series_number=900 + k, sop_instance_uid=generate_uid(), instance_number=1,
            manufacturer=MANUFACTURER, is_complete=True, is_final=False,
            series_description=f"response-tool read {read.reader_id} {timepoint_label(k)}",
            content_date=now.date(), content_time=now.time())
        datasets.append(sr)
        notes.extend(b.notes)
    return datasets, notes


def sr_file_name(read: Read, k: int, date: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in
                   f"{read.patient_id}_{read.reader_id}")
    return f"{safe}_{date}_{timepoint_label(k).replace(' ', '')}_SR.dcm"
