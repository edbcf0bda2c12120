"""The Reading panel docked as a reader adds it from the Plugins menu (no tabify asked): a tab
beside the Patient panel, never narrower than its own controls, at 1600 x 1000 and 1280 x 800
(issue 23, defect 6: docked under the Patient panel it showed two rows of its table, and
"Add lesion", "viable, arterial" and "Not evaluable" were cut). Screenshots are saved to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("napari")

from test_keys import _open  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "test-screenshots"


def _controls_fit(panel) -> list[str]:
    """The panel's buttons, boxes and checkboxes whose text does not fit their width."""
    from qtpy.QtWidgets import QAbstractButton

    cut = []
    for button in panel.findChildren(QAbstractButton):
        if button.isVisible() and button.text() \
                and button.width() < button.minimumSizeHint().width():
            cut.append(button.text())
    return cut


@pytest.mark.parametrize("size", [(1600, 1000), (1280, 800)])
def test_the_reading_panel_docks_as_a_tab_with_every_control_whole(make_napari_viewer,
                                                                   phantom_dir, tmp_path,
                                                                   qtbot, size):
    from qtpy.QtWidgets import QDockWidget

    from napari_response_tool._screenshots import save_screenshot

    viewer = make_napari_viewer(show=True)
    viewer.window.resize(*size)
    reading = _open(viewer, phantom_dir, tmp_path / "reads.sqlite", tabify=False)
    qtbot.wait(100)
    window = viewer.window._qt_window
    docks = {d.widget().__class__.__name__: d for d in window.findChildren(QDockWidget)
             if d.widget() is not None}
    mine = next(d for d in window.findChildren(QDockWidget) if d.isAncestorOf(reading))
    patient = next(d for name, d in docks.items() if name == "PatientPanel")
    assert patient in window.tabifiedDockWidgets(mine)
    assert not mine.visibleRegion().isEmpty()  # the Reading tab is the one shown
    assert mine.width() >= reading.minimumWidth() > 0
    assert _controls_fit(reading) == []
    assert reading.lesion_table.height() >= 5 * reading.lesion_table.verticalHeader()\
        .defaultSectionSize()
    # the top letter stays clear of the pane text: the centre in a wide pane, the top right in
    # a narrow one (issue 23, defect 3: the "A" was drawn over the current pane's date)
    shown = next(x for x in reading.context.images(reading.session.current) if x.visible)
    letter = shown._overlays["rt_top"]
    assert letter.position == {1600: "top_center", 1280: "top_right"}[size[0]]
    save_screenshot(viewer, SCREENSHOTS / f"reading_dock_{size[0]}x{size[1]}.png")
