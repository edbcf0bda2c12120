"""The hanging protocol: the Qt-free decisions (which prior, pane order, shift, letters, labels,
windows) and, in a real viewer under Xvfb, prior | current at follow-up 1 and 2 with read-only
prior lines, linked window, one key for the phase of both, a click-to-measure proposal accepted,
and screenshots saved to out/test-screenshots/ (looked at; the best are in docs/images)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from napari_response_tool import _hanging as h
from napari_response_tool._layers import auto_window, is_ct, window_for
from qtpy.QtCore import QTimer

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "test-screenshots"
DATES = ["2026-01-12", "2026-03-09", "2026-05-04"]


@pytest.mark.parametrize(("current", "mode", "expected"), [
    (DATES[0], "baseline", None), (DATES[0], "previous", None),
    (DATES[1], "baseline", DATES[0]), (DATES[1], "previous", DATES[0]),
    (DATES[2], "baseline", DATES[0]), (DATES[2], "previous", DATES[1]),
])
def test_prior_date(current, mode, expected):
    assert h.prior_date(DATES, current, mode) == expected


def test_grid_order_blocks_hidden_fillers_and_padding():
    plan = h.grid_order(["p1", "p2", "pl"], ["c1", "c2", "cl", "cm"], ["x1"], ["burden"])
    assert plan.stride == 4 and plan.padding == 0
    assert plan.order == ["x1", "p1", "p2", "pl", "c1", "c2", "cl", "cm", "burden"]
    pads = iter(["pad"])
    plan = h.grid_order(["p1"], ["c1", "c2"], [], pad=lambda: next(pads))
    assert plan.order == ["pad", "p1", "c1", "c2"] and plan.padding == 1
    with pytest.raises(ValueError):
        h.grid_order(["p1"], ["c1", "c2"], [])
    # napari's rule (panes are index // stride, bottom of the list first): left, then right
    groups = [i // plan.stride for i, _ in enumerate(plan.order)]
    assert groups == [0, 0, 1, 1]


def test_prior_shift_from_registrations():
    shift_fu = np.array([12.0, -20.0, 7.5])  # follow-up = baseline + shift (a pure translation)
    to_fu = lambda p: np.asarray(p) + shift_fu  # noqa: E731
    c = [10.0, 0.0, -50.0]
    # prior = baseline: move the prior by the follow-up's shift, so both show the same anatomy
    assert h.prior_shift_zyx(to_fu, None, c) == pytest.approx(shift_fu)
    other = np.array([2.0, 1.0, 0.0])
    to_prev = lambda p: np.asarray(p) + other  # noqa: E731
    assert h.prior_shift_zyx(to_fu, to_prev, c) == pytest.approx(shift_fu - other)
    assert h.prior_shift_zyx(None, None, c) == pytest.approx([0, 0, 0])
    assert h.shifted_placement({"translate": (1.0, 2.0, 3.0), "scale": (2.5, 1, 1)},
                               [1, 1, 1])["translate"] == pytest.approx((2, 3, 4))
    aff = h.shifted_placement({"affine": np.eye(4)}, [5, 0, 0])["affine"]
    assert aff[0, 3] == 5 and aff[1, 3] == 0


def test_orientation_letters():
    assert h.orientation_letters(np.eye(3)) == {"left": "R", "right": "L", "top": "A",
                                                "bottom": "P"}
    # placed in patient space, a series stored flipped still shows the patient's right on the left
    flipped = np.diag([-1.0, -1.0, 1.0])
    assert h.orientation_letters(flipped) == h.orientation_letters(np.eye(3))
    assert h.orientation_letters(flipped, placed_in_patient_space=False)["left"] == "L"
    assert h.direction_letters([0.8, -0.6, 0.0]) == "LA"


def test_one_label_per_lesion_on_its_long_axis():
    from napari_response_tool._widgets.reading.annotation_kinds import lesion_labels

    rows = [("T1", "viable", 19.2), ("T1", "long", 42.17), ("N1", "short", 15.8),
            ("N1", "long", 23.9), ("T2", "viable", 11.6)]
    assert lesion_labels(rows) == ["", "T1 42.2 v 19.2", "", "N1 23.9 ⊥ 15.8", "T2 v 11.6"]


def test_pane_text_and_windows():
    text = h.pane_text("prior", DATES[0], "baseline", "Arterial 2.5", "arterial", (80, 180),
                       30.0, 36)
    assert text.splitlines() == ["PRIOR  2026-01-12", "baseline · arterial", "Arterial 2.5",
                                 "W 180  L 80", "z +30.0 mm · slice 37"]
    long = h.pane_text("current", DATES[1], "follow-up 12", "Leber arteriell 2,5mm B30f Qr40",
                       "portal-venous", (40, 400), -112.5, 199)
    assert max(len(line) for line in long.splitlines()) <= h.PANE_TEXT_WIDTH
    assert "Leber arteriell 2,5mm B…" in long and "follow-up 12 · portal-v…" in long
    assert h.window_of((-10, 170)) == (80, 180)
    rng = np.random.default_rng(0)
    mr = np.concatenate([np.zeros(50_000), rng.uniform(200, 1200, 50_000)]).reshape(10, 100, 100)
    auto = auto_window(mr)  # the air is left out: the body's 1st..99.5th percentile
    lo, hi = auto.contrast_limits
    body = mr[mr > 0]
    assert lo == pytest.approx(np.percentile(body, 1), rel=0.02)
    assert hi == pytest.approx(np.percentile(body, 99.5), rel=0.02)

    class _Series:
        modality = "MR"

    class _Vol:
        series, array = _Series(), mr

    assert not is_ct(_Vol()) and window_for(_Vol(), "liver").name == "auto"
    _Series.modality = "CT"
    assert window_for(_Vol(), "lung").contrast_limits == (-1350.0, 150.0)


# -- in a viewer ---------------------------------------------------------------------------------
pytest.importorskip("napari")


def _read(viewer, phantom_dir, store, upto=2):
    from napari_response_tool._demo_session import open_demo_session, open_reading_demo

    session = open_demo_session(viewer, phantom_dir)
    return open_reading_demo(session, store, upto=upto)


def _pane_layers(viewer):
    """Visible layers by pane (napari's grid rule) — what the reader sees left and right."""
    grid = viewer.canvas.grid
    panes: dict[tuple[int, int], list[str]] = {}
    for i, layer in enumerate(viewer.layers):
        pos = grid.position(i, viewer.layers)
        if pos != (-1, -1) and layer.visible:
            panes.setdefault(pos, []).append(layer.name)
    return panes


def test_prior_beside_current_at_follow_ups(make_napari_viewer, qtbot, phantom_dir, tmp_path):
    from napari_response_tool._screenshots import save_screenshot
    from napari_response_tool.demo import show_new_lesion

    viewer = make_napari_viewer(show=True)
    demo = _read(viewer, phantom_dir, tmp_path / "reads.sqlite")
    panel = demo.panel
    session = panel.session
    d0, d1, d2 = session.dates
    panel.go_to(d1)
    panel.select_lesion("T1")
    assert viewer.canvas.grid.enabled and tuple(viewer.canvas.grid.shape) == (1, 2)
    panes = _pane_layers(viewer)
    assert sorted(panes) == [(0, 0), (0, 1)]
    assert panes[(0, 0)] == [f"{d0} arterial", "prior lines (read-only)"]
    assert panes[(0, 1)] == [f"{d1} arterial", f"diameters {d1}", f"lesion marks {d1}"]
    prior_lines = panel.hanging._prior_lines
    baseline_lines = sum(1 for m in session.read.measurements if m.date == d0
                         for k in ("long", "short", "viable") if m.endpoints(k))
    assert len(prior_lines.data) == baseline_lines
    # the prior is read-only: an edit there is taken back, the read unchanged
    before = session.measurement("T1", d0).long_axis_mm
    original = [np.asarray(x).copy() for x in prior_lines.data]
    data = [x.copy() for x in original]
    data[0][1, 2] += 15.0
    prior_lines.data = data
    assert "read-only" in panel.problem_label.text()
    assert all(np.allclose(a, b) for a, b in zip(prior_lines.data, original, strict=True))
    assert session.measurement("T1", d0).long_axis_mm == before
    # the pane texts name each study and phase, the window and the position
    images = {x.name: x for x in viewer.layers if x.__class__.__name__ == "Image"}
    info = images[f"{d0} arterial"]._overlays["rt_info"].text
    assert info.splitlines()[:2] == [f"PRIOR  {d0}", "baseline · arterial"]
    assert "W 180  L 80" in info
    assert images[f"{d1} arterial"]._overlays["rt_info"].text.startswith(f"CURRENT  {d1}")
    assert images[f"{d1} arterial"]._overlays["rt_left"].text == "R"
    assert [images[f"{d1} arterial"]._overlays[k].text for k in ("rt_top", "rt_bottom")] \
        == ["A", "P"]
    # linked window: a change on the current's image is on the prior's
    images[f"{d1} arterial"].contrast_limits = (-100.0, 300.0)
    assert tuple(images[f"{d0} arterial"].contrast_limits) == (-100.0, 300.0)
    panel.window_box.setCurrentText("abdomen")  # a preset on both panes
    assert tuple(images[f"{d0} arterial"].contrast_limits) == (-160.0, 240.0)
    assert tuple(images[f"{d1} arterial"].contrast_limits) == (-160.0, 240.0)
    panel.window_box.setCurrentText("liver")
    shot1 = save_screenshot(viewer, SCREENSHOTS / "hanging_followup1.png")
    # one key swaps the phase of both panes
    panel.toggle_phase()
    panes = _pane_layers(viewer)
    assert panes[(0, 0)][0] == f"{d0} portal-venous" and panes[(0, 1)][0] == f"{d1} portal-venous"
    panel.toggle_phase()
    # follow-up 2 beside the previous study; the new lesion in view and in the table
    panel.prior_box.setCurrentText("previous")
    panel.go_to(d2)
    show_new_lesion(panel)
    panes = _pane_layers(viewer)
    assert panes[(0, 0)][0] == f"{d1} arterial" and panes[(0, 1)][0] == f"{d2} arterial"
    assert panel.selected_lesion() == "NEW1"
    shot2 = save_screenshot(viewer, SCREENSHOTS / "hanging_followup2.png")
    # off: one pane again
    panel.hanging_box.setChecked(False)
    assert not viewer.canvas.grid.enabled and not panel.hanging._prior_lines.visible
    for shot in (shot1, shot2):
        from imageio.v3 import imread

        image = imread(shot)[..., :3].astype(int)
        assert image.shape[0] > 500 and image.std() > 10


def test_click_to_measure_proposal_accepted(make_napari_viewer, phantom_dir, tmp_path, qtbot):
    from napari_response_tool._screenshots import save_screenshot

    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    viewer = make_napari_viewer(show=True)
    demo = _read(viewer, phantom_dir, tmp_path / "reads.sqlite", upto=1)
    panel = demo.panel
    session = panel.session
    panel.go_to(session.dates[1])
    panel.select_lesion("T1")
    t1 = next(x for x in gt["lesions"] if x["lesion_id"] == "T1")["timepoints"][1]
    seed = np.asarray(t1["center_xyz_mm"], dtype=float)[::-1]
    # go to the predicted position: the follow-up is registered to the baseline on first use,
    # in a worker thread (the UI keeps turning), the registration stored with the read, and the
    # view moved to T1's predicted centre once it is in (the demo read registered it already:
    # forget that one first)
    session.store.set_registration(session.key, session.dates[1], None, expect=session.version)
    session.reload()
    assert session.registration(session.dates[1]) is None
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    assert panel.go_to_predicted() is None  # not yet: registering
    assert "in the background" in panel.problem_label.text()
    assert session.dates[1] in panel.registrar.running
    qtbot.waitUntil(lambda: session.dates[1] not in panel.registrar.running, timeout=120_000)
    timer.stop()
    assert session.registration(session.dates[1]) is not None
    assert panel.registrar.threads[session.dates[1]] != threading.main_thread().name
    assert len(ticks) >= 10  # the event loop turned while the worker registered
    predicted = np.asarray(panel.locator.marker_layer.data[0], dtype=float)  # the cross
    assert panel.locator.marker_layer.visible
    assert np.linalg.norm(predicted - seed) < 10.0
    assert float(viewer.dims.point[0]) == pytest.approx(predicted[0], abs=2.6)  # its slice
    assert "propagated from" in panel.problem_label.text()
    assert panel.locator.marker_layer in panel.viewer.layers
    # the reader's one-click correction: saved with the read, where T1 is predicted from now
    off = predicted + np.array([0.0, 4.0, -3.0])
    panel.correct_position()
    assert panel.locator.correcting
    panel.locator.correct_at(off)
    assert np.allclose(session.predicted_position("T1")[0], off)
    assert "position corrected (5.0 mm from the prediction)" in panel.problem_label.text()
    assert np.allclose(panel.go_to_predicted(), off)
    assert "your correction" in panel.problem_label.text()
    viewer.dims.set_point(0, float(seed[0]))
    drawn = session.measurement("T1").long_axis_mm
    lines = panel.station.propose_at(seed)
    assert "long" in lines, panel.problem_label.text()
    proposed = float(np.linalg.norm(lines["long"][1] - lines["long"][0]))
    assert proposed == pytest.approx(t1["long_axis_mm"], abs=3.0)
    assert len(panel.station._layer.data) == len(lines)
    assert session.measurement("T1").long_axis_mm == drawn  # nothing stored yet
    save_screenshot(viewer, SCREENSHOTS / "proposal_followup1.png")
    # the viable threshold box: a change proposes again from the same click, with that threshold
    import response_tool.reading.measure as measure

    asked = []
    real = measure.propose

    def spy(*args, **kwargs):
        asked.append(kwargs.get("viable_k"))
        return real(*args, **kwargs)

    measure.propose = spy
    try:
        lengths = {}
        for k in (1.5, 8.0, measure.VIABLE_K):
            panel.viable_k_box.setValue(k)
            viable = panel.station.proposal.get("viable")
            lengths[k] = 0.0 if viable is None else float(np.linalg.norm(viable[1] - viable[0]))
    finally:
        measure.propose = real
    assert asked == [1.5, 8.0, measure.VIABLE_K]
    assert lengths[1.5] >= lengths[measure.VIABLE_K] >= lengths[8.0]  # more enhancing, longer
    assert all(np.allclose(panel.station.proposal[k], lines[k]) for k in lines)  # back again
    # nothing is stored before the reader accepts; the reader moves the long axis' end first
    layer = panel.station._layer
    i = list(layer.features["kind"]).index("long")
    data = [np.asarray(x).copy() for x in layer.data]
    data[i][1, 2] += 2.0
    layer.data = data
    stored = panel.station.accept()
    assert "long" in stored and panel.station.proposal == {}
    m = session.measurement("T1")
    edited = float(np.linalg.norm(data[i][1] - data[i][0]))
    assert m.long_axis_mm == pytest.approx(edited, abs=0.006)  # stored to 0.01 mm
    assert m.origin("long") == "edited"
    if "viable" in lines:
        assert m.origin("viable") == "proposed"


@pytest.mark.parametrize(("lines", "pane_px", "expected"), [
    # "CURRENT  2026-01-12": 7 capitals, 10 digits / hyphens, 2 spaces = 200.5 px; + 10 + 20
    (["CURRENT  2026-01-12"], 800, "top_center"),   # a wide pane: the letter in the middle
    (["CURRENT  2026-01-12"], 462, "top_center"),   # just room: 230.5 <= 231
    (["CURRENT  2026-01-12"], 460, "top_right"),    # short of it: the text would reach the letter
    (["CURRENT  2026-01-12"], 425, "top_right"),    # one pane beside a wide dock at 1280 px
    (["z +40.0 mm · slice 41", "W 180  L 80"], 478, "top_center"),  # the demo's two panes
    (["short", "CURRENT  2026-01-12"], 460, "top_right"),  # the widest line counts
    ([], 100, "top_center"),
])
def test_the_top_letter_leaves_the_centre_only_when_the_pane_text_would_reach_it(
        lines, pane_px, expected):
    """Issue 23, defect 3: the "A" was drawn over the current pane's date in a narrow pane."""
    from napari_response_tool._hanging import text_width_px, top_letter_position

    assert text_width_px("CURRENT  2026-01-12") == pytest.approx(200.5)
    assert top_letter_position("\n".join(lines), pane_px) == expected
