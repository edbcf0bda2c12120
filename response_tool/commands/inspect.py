"""``response-tool inspect PATH [--json]``: studies and series with phase, spacing and warnings."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from response_tool.io import DicomScan, SeriesInfo


def add_parser(sub: Any) -> None:
    p = sub.add_parser("inspect", help="list the studies and series under a folder",
                       description="List DICOM studies and series (headers only): UIDs, date, "
                                   "modality, description, contrast phase with its evidence, "
                                   "slice count, spacing and warnings.")
    p.add_argument("path", help="a DICOM file or a folder tree (any file names)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--progress", action="store_true",
                   help="show scanning progress on stderr (default: only on a terminal)")
    p.add_argument("--image-evidence", action="store_true",
                   help="also read the pixels of every reading series whose header leaves the "
                        "phase unknown or uncertain (low confidence) and add what the image says: "
                        "aorta, portal vein and liver attenuation in HU, where measured "
                        "(docs/io.md); slower: the series are loaded")
    p.set_defaults(func=run)


def with_image_evidence(scan: DicomScan, say: Any = None) -> DicomScan:
    """``scan`` with image evidence added to the phase of each reading series whose header left
    it unknown or low-confidence (a series that cannot be loaded keeps its header guess)."""
    import dataclasses

    from response_tool.domain.errors import ResponseToolError
    from response_tool.io import load_series
    from response_tool.io.phase_image import image_phase_evidence
    from response_tool.io.phase_image import with_image_evidence as add_evidence

    studies = []
    for st in scan.studies:
        series = []
        for s in st.series:
            unsure = s.phase.phase == "unknown" or s.phase.confidence == "low"
            if unsure and s.phase.is_reading_series and s.refusal is None and not s.phase.overridden:
                if say:
                    say(f"reading the pixels of {s.description or s.series_instance_uid} …")
                try:
                    volume = load_series(s)
                    found = image_phase_evidence(volume.array, volume.spacing_zyx_mm,
                                                 modality=s.modality)
                    s = dataclasses.replace(s, phase=add_evidence(s.phase, found))
                except ResponseToolError as exc:  # the header guess stays; say why
                    s = dataclasses.replace(s, phase=dataclasses.replace(
                        s.phase, evidence=s.phase.evidence + (f"image not read: {exc}",)))
            series.append(s)
        studies.append(dataclasses.replace(st, series=tuple(series)))
    return dataclasses.replace(scan, studies=tuple(studies))


def series_dict(s: SeriesInfo) -> dict[str, Any]:
    return {
        "series_instance_uid": s.series_instance_uid,
        "sub_series": s.sub_series,
        "series_number": s.series_number,
        "description": s.description,
        "modality": s.modality,
        "phase": s.phase.phase,
        "phase_confidence": s.phase.confidence,
        "phase_evidence": list(s.phase.evidence),
        "acquisition_time": s.acquisition_time.isoformat() if s.acquisition_time else None,
        "n_slices": s.n_slices,
        "n_planes": s.n_planes,  # slices of the loaded volume (more when gaps are interpolated)
        "rows": s.rows,
        "columns": s.columns,
        "spacing_zyx_mm": [round(v, 6) for v in s.spacing_zyx_mm],
        "warnings": list(s.warnings),
        "refusal": s.refusal,  # why the series cannot be loaded (null: it can)
    }


def scan_dict(scan: DicomScan) -> dict[str, Any]:
    return {
        "studies": [
            {
                "study_instance_uid": st.study_instance_uid,
                "study_date": st.study_date.isoformat() if st.study_date else None,
                "patient_id": st.patient_id,
                "description": st.description,
                "series": [series_dict(s) for s in st.series],
            }
            for st in scan.studies
        ],
        "skipped": [{"file": str(p), "reason": r} for p, r in scan.skipped],
    }


def _progress_printer() -> Any:
    def show(done: int, total: int) -> None:
        if done == total or done % 50 == 0:
            print(f"\rreading headers {done}/{total}", end="" if done < total else "\n",
                  file=sys.stderr, flush=True)
    return show


def format_scan(scan: DicomScan) -> str:
    lines = []
    for i, st in enumerate(scan.studies):
        date = st.study_date.isoformat() if st.study_date else "undated"
        tag = "  [baseline]" if i == 0 and len(scan.studies) > 1 else ""
        lines.append(f"study {date}  {st.study_instance_uid}  patient {st.patient_id}{tag}")
        for s in st.series:
            sp = " × ".join(f"{v:.3g}" for v in s.spacing_zyx_mm)
            lines.append(f"  {s.modality:<3} {s.phase.phase:<14} ({s.phase.confidence:<6}) "
                         f"{s.n_slices:>4} sl  {s.rows}×{s.columns}  {sp} mm  "
                         f"{s.description or '(no description)'}")
            lines.append(f"      {s.series_instance_uid}"
                         + (f" (part {s.sub_series})" if s.sub_series else ""))
            lines.append(f"      phase: {'; '.join(s.phase.evidence)}")
            lines.extend(f"      WARNING: {w}" for w in s.warnings)
    if scan.skipped:
        lines.append(f"skipped {len(scan.skipped)} file(s):")
        lines.extend(f"  {p}: {r}" for p, r in scan.skipped[:20])
        if len(scan.skipped) > 20:
            lines.append(f"  … and {len(scan.skipped) - 20} more (see --json)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from response_tool.io import scan_dicom

    show = args.progress or sys.stderr.isatty()
    scan = scan_dicom(args.path, progress=_progress_printer() if show else None)
    if args.image_evidence:
        scan = with_image_evidence(scan, (lambda m: print(m, file=sys.stderr, flush=True))
                                   if show else None)
    if args.json:
        print(json.dumps(scan_dict(scan), indent=2))
    else:
        print(format_scan(scan))
    return 0
