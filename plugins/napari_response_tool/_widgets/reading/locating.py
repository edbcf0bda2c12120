"""Finding a lesion at follow-up: go to its predicted position, and correct it with one click.

* **Go to predicted** (button or key): the session's ``predicted_position(lesion_id, date)`` — the
  lesion's last located position carried through the registrations stored with the read. The
  slice and the camera move there and a cross marks the spot on the current study's pane, with
  the prior's line shown on the prior's pane. When the follow-up is still being registered in the
  background (:mod:`.registering`), the panel says so and goes there once it is done.
* **Correct position** (button or key, then one click): the reader clicks where the lesion really
  is; the core saves it with that follow-up's registration (``correct_position``), so the
  prediction at this time point is the click, and later follow-ups propagate from it while the
  lesion has no line here (a lesion too small to measure, say).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from response_tool.domain.errors import ResponseToolError

from ..._batch import set_visible
from .viewing import go_to

if TYPE_CHECKING:
    from .panel import ReadingPanel

MARKER_NAME = "predicted position"


class Locator:
    """Predicted positions and their one-click correction for one Reading panel."""

    def __init__(self, panel: ReadingPanel) -> None:
        self.panel = panel
        self._layer: Any = None

    # -- go to predicted -----------------------------------------------------------------------
    def go_to_predicted(self) -> Any:
        """Move to the selected lesion's predicted position on the current study; returns it
        (z, y, x patient mm), or None (nothing to predict from, or the registration still runs:
        the move then happens when it is done)."""
        panel = self.panel
        session, lesion_id = panel.session, panel.selected_lesion()
        if session is None or lesion_id is None:
            panel.say("select a lesion first")
            return None
        date = session.current
        if date != session.baseline and session.registration(date) is None:
            then = lambda: self._arrived(lesion_id, date)  # noqa: E731
            if panel.registrar.start(date, then=then):
                panel.say(f"registering {date} to the baseline in the background: going to "
                          f"{lesion_id}'s predicted position when it is done")
                return None
            panel.context.ensure_images(session.baseline)  # registered once the baseline is in
        return self._go(lesion_id)

    def follow(self, lesion_id: str) -> None:
        """The time point changed with ``lesion_id`` selected: keep it in view — where it is
        measured or marked at this time point, else where it is predicted (once the follow-up
        is registered: a registration still running moves the view when it is done)."""
        panel, session = self.panel, self.panel.session
        if session is None:
            return
        here = session.measurement(lesion_id)
        if here is not None and (here.long_endpoints or here.short_endpoints
                                 or here.viable_endpoints or here.mark_point):
            panel.annotations.jump_to(lesion_id)
            return
        date = session.current
        if date == session.baseline:
            return
        if session.registration(date) is not None:
            self._go(lesion_id)
        elif date in panel.registrar.running:
            panel.registrar.start(date, then=lambda: self._arrived(lesion_id, date))

    def _arrived(self, lesion_id: str, date: str) -> None:
        """The registration the reader was waiting for is in: go on if the reader has not
        moved on to another lesion or time point meanwhile."""
        session = self.panel.session
        if session is not None and session.current == date \
                and self.panel.selected_lesion() == lesion_id:
            self._go(lesion_id)

    def _go(self, lesion_id: str) -> Any:
        panel, session = self.panel, self.panel.session
        try:
            found = session.predicted_position(lesion_id, session.current)
        except ResponseToolError as exc:
            panel.say(str(exc))
            return None
        if found is None:
            panel.say(f"{lesion_id}: no earlier time point located it, nothing to propagate")
            return None
        point, source = found
        point = np.asarray(point, dtype=float).reshape(-1)[:3]
        self.show(point)
        if source == session.current:
            how = "where you put it (your correction)"
        elif session.current == session.baseline or session.registration(session.current):
            how = f"propagated from {source} through the registration"
        else:
            how = (f"at its position on {source}, NOT registered (the baseline's images are not "
                   "loaded yet): correct it with one click if it is off")
        panel.say(f"{lesion_id}: {how}, z = {point[0]:.1f} mm — Measure and click on it, or "
                  "Correct position and click where it really is")
        return point

    def show(self, point: np.ndarray) -> None:
        """Move the slice and the camera to ``point`` (z, y, x mm) and mark it with the cross."""
        panel = self.panel
        go_to(panel, point)
        placed = self._layer is not None and self._layer in panel.viewer.layers
        layer = self.marker_layer_for_drawing()
        layer.data = point[None, :]
        set_visible(layer, True)
        if not placed:  # a new marker layer goes into the current study's pane (once)
            panel.hanging.apply()

    # -- the marker ----------------------------------------------------------------------------
    @property
    def marker_layer(self) -> Any:
        """The predicted-position marker (None until a first prediction)."""
        return self._layer

    def marker_layer_for_drawing(self) -> Any:
        if self._layer is None or self._layer not in self.panel.viewer.layers:
            self._layer = self.panel.viewer.add_points(
                np.empty((0, 3)), ndim=3, name=MARKER_NAME, symbol="cross", size=9,
                face_color="#40e0ff", border_color="black", border_width=0.1,
                units=("mm", "mm", "mm"), out_of_slice_display=False)
            self._layer.editable = False
        return self._layer

    def hide_marker(self) -> None:
        if self._layer is not None and self._layer in self.panel.viewer.layers:
            set_visible(self._layer, False)

    # -- one-click correction ------------------------------------------------------------------
    def start_correct(self) -> None:
        """The next click on the canvas says where the selected lesion really is."""
        panel = self.panel
        session, lesion_id = panel.session, panel.selected_lesion()
        if session is None or lesion_id is None:
            panel.say("select a lesion first, then Correct position and click where it is")
            return
        if session.current == session.baseline:
            panel.say("at the baseline a lesion is where its line is: move the line instead")
            return
        panel.next_click.arm("correct", self.correct_at)
        panel.say(f"click where {lesion_id} is on the current study")

    @property
    def correcting(self) -> bool:
        """The next click on the canvas says where the selected lesion is."""
        return self.panel.next_click.armed == "correct"

    def correct_at(self, point_zyx_mm: Any) -> Any:
        """The selected lesion is at ``point_zyx_mm`` (world mm) on the current study, as the
        reader's click says: saved with the read; returns the point (None if refused)."""
        panel = self.panel
        session, lesion_id = panel.session, panel.selected_lesion()
        if session is None or lesion_id is None:
            panel.say("select a lesion first")
            return None
        point = np.asarray(point_zyx_mm, dtype=float).reshape(-1)[:3]
        try:
            before = session.predicted_position(lesion_id, session.current)
            session.correct_position(lesion_id, point.tolist())
        except ResponseToolError as exc:
            panel.say(str(exc))
            return None
        self.show(point)
        moved = "" if before is None else \
            f" ({np.linalg.norm(point - np.asarray(before[0], float)):.1f} mm from the prediction)"
        panel.say(f"{lesion_id}: position corrected{moved}; later follow-ups are predicted from "
                  "here until it is measured")
        return point
