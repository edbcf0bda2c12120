"""The Burden panel under Xvfb: proposed slices, outlines on the image grid, assisted liver
outline, running HTB against the phantom's ground truth, saved with the time point."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import ndimage

pytest.importorskip("napari")

from qtpy.QtWidgets import QPushButton  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "test-screenshots"


def test_semi_quantitative_burden_in_the_viewer(make_napari_viewer, phantom_dir, tmp_path):
    from napari_response_tool._demo_read import fill_timepoint
    from napari_response_tool._screenshots import save_screenshot

    from response_tool import burden

    r = _open_baseline(make_napari_viewer, phantom_dir, tmp_path)
    viewer, reading, panel, gt, tp = r.viewer, r.reading, r.panel, r.gt, r.tp
    image, labels, liver, tumour = r.image, r.labels, r.liver, r.tumour
    z_with_liver = np.flatnonzero(liver.any(axis=(1, 2)))
    panel.set_extent(first=int(z_with_liver[0]), last=int(z_with_liver[-1]))
    slices = panel.propose(5)
    assert slices == burden.propose_slices(liver, 5)
    layer = panel.outlines()
    assert layer.data.shape == labels.shape and tuple(layer.scale) == tuple(image.spacing_zyx_mm)

    # the reader's outlines: the assisted liver on every proposed slice, tumours from the truth
    data = np.asarray(layer.data).copy()
    for z in slices:
        data[z][tumour[z]] = 2
    layer.data = data
    for z in slices:
        ys, xs = np.nonzero(labels[z] == 10)
        k = len(ys) // 2
        panel.assist_liver(z, (int(ys[k]), int(xs[k])))
        grown = np.asarray(layer.data)[z] > 0
        dice = 2 * (grown & liver[z]).sum() / (grown.sum() + liver[z].sum())
        assert dice > 0.85, (z, dice)
    est = panel.estimate
    assert est is not None and est.method == "semi-quantitative" and est.slices == slices
    assert est.htb_pct == pytest.approx(tp["htb_pct"], abs=5.0)
    assert est.category == burden.get_scheme("liu2022").categorize(tp["htb_pct"])
    low, high = est.ci95_pct
    assert low <= est.htb_pct <= high
    assert panel.last_update_ms < 1000  # measured; the benchmark holds the target
    print(f"burden panel update: {panel.last_update_ms:.1f} ms")
    panel.save()
    (saved,) = reading.session.store.burden(reading.session.key)
    assert saved["date"] == tp["date"] and saved["slices"] == list(slices)
    assert saved["htb_pct"] == pytest.approx(est.htb_pct)
    # tumours started from the annotated lesions (ellipsoids from their diameters) instead
    data = np.asarray(layer.data).copy()
    data[data == 2] = 1
    layer.data = data
    assert panel.estimate.htb_pct == 0
    assert panel.tumours_from_lesions() >= 2
    assert panel.estimate.htb_pct == pytest.approx(tp["htb_pct"], abs=5.0)
    assert panel.estimate.category == burden.get_scheme("liu2022").categorize(tp["htb_pct"])
    # the reader may move a proposed slice
    moved = panel.move_slice(0, slices[0] + 2)
    assert moved[0] == slices[0] + 2 and panel.estimate.slices == moved
    # a visual estimate at follow-up 1, and both reach the exported responses
    reading.go_to(gt["timepoints"][1]["date"])
    fill_timepoint(reading, gt, 1)
    assert panel.save_visual("<10%").method == "visual"
    paths = reading.export(tmp_path / "export")
    import csv
    rows = {(r["criterion"], r["timepoint_date"]): r for r in csv.DictReader(paths["responses"].open())}
    assert rows[("recist1.1", tp["date"])]["htb_method"] == "semi-quantitative"
    assert rows[("mrecist", gt["timepoints"][1]["date"])]["htb_category"] == "<10%"
    assert rows[("mrecist", gt["timepoints"][1]["date"])]["htb_method"] == "visual"
    reading.go_to(tp["date"])
    panel.go_to_slice(slices[2])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    save_screenshot(viewer, SCREENSHOTS / "burden_panel_baseline.png")


# -- issue 23, item 8: driven as a reader drives the panel (real clicks and key presses) ----------
def _open_baseline(make_napari_viewer, phantom_dir, tmp_path):
    """A shown viewer with the phantom's baseline read (its lesions measured), the Burden tab in
    front, and the truth: the portal-venous image's liver and tumour masks."""
    from napari_response_tool._demo_read import fill_timepoint

    from response_tool.io import load_image, load_label_map

    gt = json.loads((phantom_dir / "ground_truth.json").read_text())
    viewer = make_napari_viewer(show=True)
    viewer.window.resize(1600, 1000)
    _, patient = viewer.window.add_plugin_dock_widget("response-tool", "Patient")
    _, reading = viewer.window.add_plugin_dock_widget("response-tool", "Reading")
    dock, panel = viewer.window.add_plugin_dock_widget("response-tool", "Burden", tabify=True)
    patient.open_folder(phantom_dir / "RT-PHANTOM-001")
    studies = patient.studies()
    patient.load_study(studies[0])
    reading.start("RT-PHANTOM-001", studies, tmp_path / "reads.sqlite", reader_id="R1",
                  load_study=patient.load_study)
    fill_timepoint(reading, gt, 0)
    dock.raise_()  # the Burden tab in front: its buttons are on screen to be clicked
    tp = gt["timepoints"][0]
    image = load_image(phantom_dir / tp["series"]["portal-venous"]["folder"])
    labels = load_label_map(phantom_dir / tp["label_map"], image)
    return SimpleNamespace(viewer=viewer, reading=reading, panel=panel, tp=tp, gt=gt,
                           image=image, labels=labels,
                           liver=np.isin(labels, gt["liver_labels"]),
                           tumour=np.isin(labels, gt["tumour_labels"]))


def _click(qtbot, button):
    from qtpy.QtCore import Qt

    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _double_click_row(qtbot, table, row):
    """Double-click a row of the panel's slice table (the panel goes to that slice)."""
    from qtpy.QtCore import Qt

    index = table.model().index(row, 0)
    table.scrollTo(index)
    at = table.visualRect(index).center()
    # a hand's double-click: a click, then the second press that Qt reports as the double-click
    # (QTest's mouseDClick alone leaves the view without the first press and release)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=at)


def _propose_by_clicks(qtbot, r):
    """The reader goes to the liver's first and last slice, says so, and asks for slices."""
    z = np.flatnonzero(r.liver.any(axis=(1, 2)))
    buttons = {b.text(): b for b in r.panel.findChildren(QPushButton)}
    for slice_z, text in ((z[0], "Liver starts here"), (z[-1], "Liver ends here")):
        r.panel.go_to_slice(int(slice_z))  # where the slider takes the reader
        _click(qtbot, buttons[text])
    _click(qtbot, buttons["Propose slices"])
    from response_tool import burden

    assert r.panel.slices == burden.propose_slices(r.liver, 5)
    return r.panel.slices


def _slice_on_screen(r):
    return int(round(float(r.panel._image().world_to_data(r.viewer.dims.point)[0])))


def _hover(qtbot, viewer, world_yx):
    """Move the mouse over napari's canvas to world (y, x) mm, as a reader points at the liver
    (a Qt mouse-move event on the canvas widget, no button held)."""
    from qtpy.QtCore import QPointF, Qt
    from qtpy.QtGui import QMouseEvent
    from qtpy.QtWidgets import QApplication

    canvas = viewer.window._qt_viewer.canvas
    to_canvas = canvas.view.transform * canvas.view.scene.transform
    x, y = to_canvas.map([world_yx[1], world_yx[0]])[:2]
    widget = canvas.native
    point = QPointF(float(x), float(y))
    QApplication.sendEvent(widget, QMouseEvent(
        QMouseEvent.Type.MouseMove, point, widget.mapToGlobal(point), Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    QApplication.processEvents()


def _inside_liver(liver_slice):
    """The liver pixel farthest from its border (row, column): a sure place to point at."""
    depth = ndimage.distance_transform_edt(liver_slice)
    return tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), depth.shape))


def test_save_to_read_takes_a_slice_the_tumour_fills(make_napari_viewer, phantom_dir, tmp_path,
                                                     qtbot):
    """Item 8, 'Save to read' refused: a slice where only tumour is outlined (a lesion painted
    before its liver) made the bootstrap interval's top 100.00000000000001 %, which the read
    store refuses — nothing was saved. 69 px at the phantom's 0.78 mm pixels is an area whose
    100 × a / a rounds up. Now the interval stays within 0–100 %, the estimate is saved, and the
    panel warns that the slice counts as all tumour."""
    r = _open_baseline(make_napari_viewer, phantom_dir, tmp_path)
    slices = _propose_by_clicks(qtbot, r)
    layer = r.panel.outlines()
    data = np.asarray(layer.data).copy()
    data[slices[2]][r.liver[slices[2]]] = 1  # the liver outlined on one slice
    data[slices[2]][r.tumour[slices[2]]] = 2
    y, x = _inside_liver(r.liver[slices[3]])
    data[slices[3], y:y + 3, x:x + 23] = 2  # 69 px of tumour alone on another
    layer.data = data
    est = r.panel.estimate
    assert est is not None and 0.0 <= est.ci95_pct[0] <= est.ci95_pct[1] <= 100.0
    assert est.ci95_pct[1] == 100.0  # the top of the interval: the slice that is all tumour
    assert f"slice {slices[3] + 1}: tumour (label 2) but no liver (label 1)" in r.panel.result_label.text()
    buttons = {b.text(): b for b in r.panel.findChildren(QPushButton)}
    _click(qtbot, buttons["Save to read"])
    session = r.reading.session
    (saved,) = session.store.burden(session.key)
    assert saved["date"] == r.tp["date"] and saved["slices"] == list(slices)
    assert saved["htb_pct"] == pytest.approx(est.htb_pct)
    assert r.panel.result_label.text().endswith(f"Saved with {r.tp['date']}.")


def _dice(a, b):
    return 2 * float((a & b).sum()) / float(a.sum() + b.sum())


def test_tumours_from_lesions_only_where_the_liver_is_outlined(make_napari_viewer, phantom_dir,
                                                               tmp_path, qtbot):
    """Item 8, 'Tumours from annotated lesions': on a slice without a liver outline it drew the
    lesion alone, which then counted as all of the liver there (22.2 % against a true 2.09 %),
    with no warning. Now nothing is drawn there, the panel names the lesion and the slice and
    says to outline the liver first; once the reader has (Assist), the same button draws it."""
    r = _open_baseline(make_napari_viewer, phantom_dir, tmp_path)
    slices = _propose_by_clicks(qtbot, r)
    buttons = {b.text(): b for b in r.panel.findChildren(QPushButton)}
    layer, image = r.panel.outlines(), r.panel._image()

    def outline_liver(on):
        data = np.zeros(layer.data.shape, np.uint8)
        for z in on:
            data[z][r.liver[z] | r.tumour[z]] = 1  # the reader's liver outline (the truth)
        layer.data = data

    outline_liver(slices)  # which proposed slices do the measured liver lesions cross?
    _click(qtbot, buttons["Tumours from annotated lesions"])
    crossed = [z for z in slices if (np.asarray(layer.data)[z] == 2).any()]
    assert len(crossed) >= 2
    skip = crossed[0]
    outline_liver([z for z in slices if z != skip])  # the liver not yet outlined on one of them
    _click(qtbot, buttons["Tumours from annotated lesions"])
    data = np.asarray(layer.data)
    assert not data[skip].any()  # nothing invented on the slice without a liver outline
    assert all((data[z] == 2).any() for z in crossed if z != skip)
    text = r.panel.result_label.text()
    assert re.search(rf"Not drawn — no liver outline there yet: .*[A-Z]+\d+ on slice\(s\) "
                     rf"[\d, ]*\b{skip + 1}\b", text), text  # numbered as the pane says
    assert "Outline the liver on those slices first" in text
    assert r.panel.estimate.htb_pct < r.tp["htb_pct"] + 5.0  # not the 22.2 % of a tumour alone
    from napari_response_tool._screenshots import save_screenshot

    save_screenshot(r.viewer, SCREENSHOTS / "burden_panel_not_drawn.png")
    # the reader goes to that slice, points at its liver, presses Assist, then Tumours again
    _double_click_row(qtbot, r.panel.table, slices.index(skip))
    assert _slice_on_screen(r) == skip
    _hover(qtbot, r.viewer, image.data_to_world((skip, *_inside_liver(r.liver[skip])))[1:])
    _click(qtbot, buttons["Assist liver at cursor"])
    assert _dice(np.asarray(layer.data)[skip] == 1, r.liver[skip]) > 0.85
    _click(qtbot, buttons["Tumours from annotated lesions"])
    assert (np.asarray(layer.data)[skip] == 2).any()
    assert "Not drawn" not in r.panel.result_label.text()
    est = r.panel.estimate
    assert est.htb_pct == pytest.approx(r.tp["htb_pct"], abs=5.0)
    _click(qtbot, buttons["Save to read"])
    session = r.reading.session
    (saved,) = session.store.burden(session.key)
    assert saved["slices"] == list(slices) and saved["htb_pct"] == pytest.approx(est.htb_pct)
    assert r.panel.result_label.text().endswith(f"Saved with {r.tp['date']}.")
    r.panel.go_to_slice(skip)
    save_screenshot(r.viewer, SCREENSHOTS / "burden_panel_saved.png")


def test_assist_grows_the_slice_on_screen_from_the_cursor(make_napari_viewer, phantom_dir,
                                                          tmp_path, qtbot):
    """Item 8, 'Assist liver at cursor' grew the same slice again after the reader had moved to
    other slices: it took the slice from the z of napari's cursor position, not from the slice
    shown. Now it grows the slice on screen (the viewer's current point) from the cursor's row
    and column when the button is pressed."""
    from qtpy.QtCore import Qt

    r = _open_baseline(make_napari_viewer, phantom_dir, tmp_path)
    slices = _propose_by_clicks(qtbot, r)
    assist = next(b for b in r.panel.findChildren(QPushButton)
                  if b.text() == "Assist liver at cursor")
    layer, image = r.panel.outlines(), r.panel._image()
    first = slices[1]
    _double_click_row(qtbot, r.panel.table, 1)  # the reader goes to a proposed slice
    assert _slice_on_screen(r) == first
    _hover(qtbot, r.viewer, image.data_to_world((first, *_inside_liver(r.liver[first])))[1:])
    _click(qtbot, assist)
    after_first = np.asarray(layer.data).copy()
    assert _dice(after_first[first] == 1, r.liver[first]) > 0.85
    said_first = r.panel.result_label.text()
    stale = tuple(r.viewer.cursor.position)  # the cursor as it was over the first slice
    # on to another slice with the keyboard (napari's slice step, pressed on the canvas)
    target = slices[3]
    for _ in range(200):
        if _slice_on_screen(r) >= target:
            break
        qtbot.keyClick(r.viewer.window._qt_viewer.canvas.native, Qt.Key.Key_Right)
    second = _slice_on_screen(r)
    assert second != first and r.liver[second].any()
    yx = _inside_liver(r.liver[second])
    world = image.data_to_world((second, *yx))
    _hover(qtbot, r.viewer, world[1:])  # the reader points at the liver there
    # The read grew the first slice again here: the cursor's z still said the first
    # slice. napari 0.9.2 moves the cursor's z with the slice on its own events (tried: rows
    # double-clicked, arrow keys, pointing), so that state is set by hand: the first slice's z,
    # the row and column where the reader points now.
    r.viewer.cursor.position = (stale[0], float(world[1]), float(world[2]))
    _click(qtbot, assist)
    data = np.asarray(layer.data)
    assert _dice(data[second] == 1, r.liver[second]) > 0.85  # grown on the slice on screen
    assert np.array_equal(data[first], after_first[first])  # the first slice left as it was
    text = r.panel.result_label.text()
    assert f"Liver grown on slice {first + 1} from the cursor" in said_first  # as the pane says
    assert f"Liver grown on slice {second + 1} from the cursor" in text
    row, col = (int(v) for v in re.search(r"from the cursor \(row (\d+), column (\d+)\)",
                                          text).groups())
    assert abs(row - yx[0]) <= 1 and abs(col - yx[1]) <= 1  # from where the reader points
