"""The plugin's spine in a real napari viewer (under Xvfb): one ViewerContext per viewer through
which the panels find each other, the one data-event handler of the lines and marks layers, and
the key table."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari")


def _dock(viewer, *names):
    return [viewer.window.add_plugin_dock_widget("response-tool", n, tabify=True)[1] for n in names]


def test_two_viewers_get_two_contexts_and_panels_find_each_other_only_through_theirs(
        make_napari_viewer, phantom_dir, tmp_path, monkeypatch):
    from napari.utils._proxies import PublicOnlyProxy
    from napari_response_tool._context import ViewerContext

    monkeypatch.setenv("RESPONSE_TOOL_STORE", str(tmp_path / "default.sqlite"))
    v1, v2 = make_napari_viewer(), make_napari_viewer()
    patient1, reading1, burden1, adj1 = _dock(v1, "Patient", "Reading", "Burden", "Adjudication")
    patient2, reading2, burden2, adj2 = _dock(v2, "Patient", "Reading", "Burden", "Adjudication")
    c1, c2 = ViewerContext.of(v1), ViewerContext.of(v2)
    assert c1 is not c2
    assert ViewerContext.of(PublicOnlyProxy(v1)) is c1  # napari hands panels a proxy
    assert all(p.context is c1 for p in (patient1, reading1, burden1, adj1))
    assert all(p.context is c2 for p in (patient2, reading2, burden2, adj2))
    assert (c1.patient_panel, c1.reading_panel) == (patient1, reading1)
    assert (c2.patient_panel, c2.reading_panel) == (patient2, reading2)

    opened, dates = [], []
    c2.session_listeners.append(opened.append)
    c2.date_listeners.append(dates.append)
    patient2.open_folder(phantom_dir / "RT-PHANTOM-001")
    assert reading1.open_from_patient_panel() is None   # viewer 1's Patient panel has no folder
    assert "open a patient folder" in reading1.problem_label.text()
    session = reading2.open_from_patient_panel()
    assert session is not None and c2.session is session and reading2.session is session
    assert opened == [session] and c1.session is None
    # the other panels of viewer 2 work on viewer 2's read; those of viewer 1 still have none
    assert burden2._date() == session.baseline
    adj2.compare()  # one reader so far: the core says so, about viewer 2's patient
    assert "RT-PHANTOM-001 has 1 read" in adj2.summary.text()
    assert adj1.compare() is None and "Reading panel" in adj1.summary.text()
    reading2.go_to(session.dates[1])
    assert dates == [session.dates[1]] and burden2._date() == session.dates[1]
    # the Patient panel's studies and folder reach the Reading panel through the context only
    assert [s.study_instance_uid for s in c2.patient_studies()] == [
        s.study_instance_uid for s in patient2.studies()]
    assert c2.patient_id() == "RT-PHANTOM-001" and c1.patient_studies() == []


def _reading(viewer, phantom_dir, store):
    patient, reading = _dock(viewer, "Patient", "Reading")
    patient.open_folder(phantom_dir / "RT-PHANTOM-001")
    studies = patient.studies()
    patient.load_study(studies[0])
    reading.start("RT-PHANTOM-001", studies, store, reader_id="R1", load_study=patient.load_study)
    return reading


def test_one_handler_records_add_move_remove_of_lines_and_marks(make_napari_viewer, phantom_dir,
                                                                 tmp_path):
    viewer = make_napari_viewer()
    reading = _reading(viewer, phantom_dir, tmp_path / "reads.sqlite")
    session = reading.session
    date = session.current
    z = float(viewer.dims.point[0])
    assert reading.add_lesion("target", "liver") == "T1"
    assert reading.add_lesion("non-target", "liver") == "NT1"

    # lines (shapes layer): added → measured; moved → re-measured; removed → forgotten
    lines = reading.annotations.lines.layer(date)
    reading.select_lesion("T1")
    reading.set_kind("long")
    lines.add_lines([np.array([[z, 0.0, 0.0], [z, 0.0, 30.0]])])
    assert session.measurement("T1").long_axis_mm == pytest.approx(30.0)
    assert list(lines.features["label"]) == ["T1 30.0"]  # the label shows the length
    data = [np.asarray(d).copy() for d in lines.data]
    data[0][1, 2] = 40.0
    lines.data = data
    assert session.measurement("T1").long_axis_mm == pytest.approx(40.0)
    lines.add_lines([np.array([[z, 0.0, 0.0], [z, 0.0, 35.0]])])  # drawn again: replaces
    assert len(lines.data) == 1 and session.measurement("T1").long_axis_mm == pytest.approx(35.0)
    lines.selected_data = {0}
    lines.remove_selected()
    assert session.measurement("T1") is None  # nothing of it left: not yet measured again

    # marks (points layer), through the same handler
    marks = reading.annotations.marks.layer(date)
    reading.add_mark("NT1", [z, 10.0, 10.0])
    assert session.measurement("NT1").mark_point == pytest.approx([z, 10.0, 10.0])
    assert list(marks.features["lesion_id"]) == ["NT1"]
    assert list(marks.features["label"]) == ["NT1"]  # its name on the canvas
    reading.set_kind("long")  # measured as well: the name once, on the line, not on the mark
    lines.add_lines([np.array([[z, 10.0, 5.0], [z, 10.0, 15.0]])])
    assert list(marks.features["label"]) == [""] and "NT1 10.0" in list(lines.features["label"])
    reading.undo()  # the line gone again: the mark says the name
    assert list(reading.annotations.marks.layer(date).features["label"]) == ["NT1"]
    moved = np.asarray(marks.data).copy()
    moved[0, 2] = 20.0
    marks.data = moved
    assert session.measurement("NT1").mark_point == pytest.approx([z, 10.0, 20.0])
    reading.add_mark("NT1", [z, 12.0, 12.0])  # one mark per lesion
    assert len(marks.data) == 1
    assert session.measurement("NT1").mark_point == pytest.approx([z, 12.0, 12.0])
    marks.selected_data = {0}
    marks.remove_selected()
    assert session.measurement("NT1").mark_point is None
    # a target cannot be marked, a line needs a lesion: both refused and removed
    reading.add_mark("T1", [z, 5.0, 5.0])
    assert len(marks.data) == 0 and "non-target or new" in reading.problem_label.text()
    reading.lesion_table.clearSelection()
    lines.add_lines([np.array([[z, 0.0, 0.0], [z, 0.0, 30.0]])])
    assert len(lines.data) == 0 and "select a lesion" in reading.problem_label.text()
