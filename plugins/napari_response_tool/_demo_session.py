"""The demo session: the phantom's baseline study open for reading, the Patient panel docked.

Kept apart from ``demo.py`` so tests can open the same session in a ``make_napari_viewer`` viewer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from response_tool.criteria import CRITERIA

if TYPE_CHECKING:
    import napari

    from ._widgets.patient import PatientPanel


def _patient_folder(phantom: Path) -> Path:
    folders = sorted(p for p in phantom.iterdir() if p.is_dir() and p.name != "broken")
    if len(folders) != 1:
        raise FileNotFoundError(f"expected one patient folder in {phantom}, found {len(folders)}")
    return folders[0]


#: The phantom's 400 mm field of view is mostly air: zoom onto the abdomen after fitting the view.
BODY_ZOOM = 1.4


@dataclass
class DemoSession:
    viewer: Any
    panel: PatientPanel
    phantom: Path
    ground_truth: dict[str, Any] = field(default_factory=dict)
    focus: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        studies = [
            {
                "study_date": s.study_date.isoformat() if s.study_date else None,
                "study_instance_uid": s.study_instance_uid,
                "series": [
                    {"description": x.description, "phase": x.phase.phase,
                     "n_slices": x.n_slices, "spacing_zyx_mm": list(x.spacing_zyx_mm)}
                    for x in s.series
                ],
            }
            for s in self.panel.studies()
        ]
        layers = [
            {"name": layer.name, "scale": [float(v) for v in layer.scale],
             "contrast_limits": [float(v) for v in layer.contrast_limits]}
            for layer in self.viewer.layers if layer.__class__.__name__ == "Image"
        ]
        return {"phantom": str(self.phantom), "studies": studies, "layers": layers,
                "focus": self.focus}

    def summary_text(self) -> str:
        d = self.as_dict()
        lines = [f"response-tool demo — phantom {d['phantom']}", ""]
        for i, s in enumerate(d["studies"]):
            tag = " (baseline)" if i == 0 else ""
            lines.append(f"study {s['study_date']}{tag}")
            for x in s["series"]:
                sp = ", ".join(f"{v:.2f}" for v in x["spacing_zyx_mm"])
                lines.append(f"  {x['phase']:<14} {x['n_slices']:>4} slices  [{sp}] mm  "
                             f"{x['description']}")
        lines.append("")
        lines.append("layers open (scale z,y,x in mm; window in HU):")
        for layer in d["layers"]:
            sc = ", ".join(f"{v:.3f}" for v in layer["scale"])
            lo, hi = layer["contrast_limits"]
            lines.append(f"  {layer['name']}  scale [{sc}]  window {lo:.0f}..{hi:.0f}")
        if self.focus:
            lines.append("")
            lines.append(f"view centred on lesion {self.focus.get('lesion_id')} at "
                         f"z = {self.focus.get('z_mm'):.1f} mm")
        return "\n".join(lines) + "\n"


def _baseline_focus(ground_truth: dict[str, Any]) -> dict[str, Any]:
    """Lesion T1's baseline position (z of its longest-diameter plane), if the ground truth says."""
    from response_tool.phantom import baseline_focus

    return baseline_focus(ground_truth)


def open_demo_session(viewer: napari.Viewer, phantom: Path) -> DemoSession:
    """Dock the Patient panel, open the phantom, load the baseline reading pair side by side."""
    _, panel = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    patient = _patient_folder(phantom)
    panel.open_folder(patient)
    studies = panel.studies()
    if studies:
        panel.load_study(studies[0])
    viewer.window.resize(1600, 960)
    panel.side_by_side.setChecked(True)
    gt_path = phantom / "ground_truth.json"
    ground_truth = json.loads(gt_path.read_text()) if gt_path.is_file() else {}
    focus = _baseline_focus(ground_truth) if ground_truth else {}
    if focus:
        viewer.dims.set_point(0, float(focus["z_mm"]))
    from qtpy.QtWidgets import QApplication

    QApplication.processEvents()  # let the window take its size before fitting the view
    viewer.reset_view()
    viewer.scene.camera.zoom *= BODY_ZOOM
    return DemoSession(viewer=viewer, panel=panel, phantom=phantom,
                       ground_truth=ground_truth, focus=focus)


@dataclass
class ReadingDemo:
    """The phantom read filled in (baseline and follow-up 1), open at follow-up 1."""

    panel: Any
    store_path: Path
    lines: int = 0

    def summary_text(self) -> str:
        s = self.panel.session
        lines = [f"read {s.key.patient_id} by {s.key.reader_id}, saved in {self.store_path}"]
        for date in s.dates:
            tag = "baseline" if date == s.baseline else f"follow-up {s.dates.index(date)}"
            responses = s.responses(date)
            if not responses:
                lines.append(f"  {date} ({tag}): not read yet")
                continue
            parts = []
            for crit in CRITERIA:
                r = responses[crit]
                change = r["pct_change_from_baseline"]
                change_text = "" if change != change else f", {change:+.1f} % vs baseline"
                parts.append(f"{crit} sum {r['sum_mm']:.1f} mm{change_text} "
                             f"{r['overall_response'] or '(baseline)'}")
            lines.append(f"  {date} ({tag}): " + "; ".join(parts))
        lines.append(f"live update after an edit: {s.last_update_ms:.0f} ms")
        if s.warnings:
            lines.append("warnings: " + " | ".join(s.warnings))
        return "\n".join(lines) + "\n"


def hide_layer_docks(viewer: Any) -> None:
    """Hide napari's layer list and layer controls (Window menu brings them back): the two
    panes of the hanging protocol get the width they need to show the whole liver."""
    qt_viewer = getattr(viewer.window, "_qt_viewer", None)
    for name in ("dockLayerList", "dockLayerControls"):
        dock = getattr(qt_viewer, name, None)
        if dock is not None:
            dock.setVisible(False)


def open_reading_demo(session: DemoSession, store_path: Path, upto: int = 1) -> ReadingDemo:
    """Dock the Reading panel beside the Patient panel and draw the ground-truth read of the
    baseline and follow-ups up to ``upto`` (a fresh store at ``store_path``), then show the last."""
    from ._demo_read import fill_timepoint

    viewer = session.viewer
    viewer.window.add_plugin_dock_widget("response-tool", "Burden", tabify=True)
    _, reading = viewer.window.add_plugin_dock_widget("response-tool", "Reading", tabify=True)
    store_path = Path(store_path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    session.panel.side_by_side.setChecked(False)  # the Reading panel lays out the panes
    hide_layer_docks(viewer)
    reading.start(_patient_folder(session.phantom).name, session.panel.studies(), store_path,
                  reader_id="DEMO", load_study=session.panel.load_study)
    gt = session.ground_truth
    for k in range(min(upto, len(gt.get("timepoints", [])) - 1) + 1):
        fill_timepoint(reading, gt, k)
        if k:  # as a reader's first "go to predicted" does: the follow-up registered to the
            reading.hanging.ensure_registration(reading.session.current)  # baseline, so the
            reading.hanging.apply()  # prior pane shows the same anatomy as the current one
    reading.go_to(reading.session.dates[min(upto, len(reading.session.dates) - 1)])
    from qtpy.QtWidgets import QApplication

    QApplication.processEvents()
    viewer.reset_view()
    viewer.scene.camera.zoom *= BODY_ZOOM
    reading.select_lesion("T1")  # jumps to T1's slice and centres it
    n = sum(len(layer.data) for layer in reading.annotations.lines.layers.values())
    return ReadingDemo(reading, store_path, n)


def phantom_burden(session: DemoSession, dates: list[str]) -> list[dict[str, Any]]:
    """Volumetric HTB of the phantom at ``dates``, from its label maps on the portal-venous grid."""
    import numpy as np

    from response_tool import burden
    from response_tool.domain.vocabulary import Phase
    from response_tool.io import load_image, load_label_map

    gt = session.ground_truth
    rows = []
    for tp in gt.get("timepoints", []):
        if tp["date"] not in dates:
            continue
        image = load_image(session.phantom / tp["series"][Phase.PORTAL_VENOUS]["folder"])
        labels = load_label_map(session.phantom / tp["label_map"], image)
        present = set(np.unique(labels).tolist())
        est = burden.volumetric_from_labels(
            labels, [v for v in gt["liver_labels"] if v in present],
            [v for v in gt["tumour_labels"] if v in present], image.spacing_zyx_mm)
        rows.append({"patient_id": gt["patient_id"], "reader_id": "", "timepoint_date": tp["date"],
                     "htb_pct": round(est.htb_pct, 4), "htb_category": est.category,
                     "htb_method": est.method, "liver_volume_ml": round(est.liver_volume_ml, 2),
                     "tumor_volume_ml": round(est.tumor_volume_ml, 2)})
    return rows
