"""The reading station's operations beyond drawing: undo / redo, click-to-measure proposals and
the predicted position of a lesion at follow-up — each a few calls into the core.

* **Undo / redo** are the session's (store-backed: they survive a restart); the session announces
  what they changed (:mod:`response_tool.reading.events`), and only those lines, marks and table
  rows follow — nothing is redrawn by hand here.
* **Click-to-measure**: after *Measure* (button or key) the next click on the canvas is a seed;
  the core's ``response_tool.reading.measure.propose(volume, seed_zyx_mm, arterial)`` returns
  long, short and viable line endpoints (patient mm), which go on an ordinary editable shapes
  layer (``proposals``), and the lesion's 3-D mask with its volumes; the message line says the
  proposal's confidence, volumes and warnings. Nothing is stored until the reader accepts (button
  or key): then the lines (each *proposed* or, when the reader moved it first, *edited*), the
  volumes and the mask are stored as one action (``ReadingSession.accept_proposal``: one undo).
* **No click at a follow-up**: when the selected lesion has a predicted position there (the
  follow-up registered, or the reader's correction), *Measure* proposes at it at once; refused
  there (the prediction missed the lesion), the panel says why and waits for the click.
* The **viable threshold** (the panel's "viable >" box: arterial enhancement above the
  surrounding liver, in spreads of the liver's own noise) is the core's ``viable_k``; changing it
  while a proposal is on screen proposes again from the same click.

(The predicted position and its one-click correction are :mod:`.locating`.) When the core does
not offer ``propose`` (an older core), the panel says so in its message line; nothing else
changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from response_tool.domain.errors import ResponseToolError
from response_tool.domain.model import volumes_text
from response_tool.domain.vocabulary import DiameterKind, Phase
from response_tool.reading.session import LineRecord

from ..._batch import set_visible
from .annotation_kinds import COLORS, WIDTHS, lesion_labels

if TYPE_CHECKING:
    from .panel import ReadingPanel

PROPOSAL_KINDS = (DiameterKind.LONG, DiameterKind.SHORT, DiameterKind.VIABLE)


def core_propose() -> Any:
    """The core's ``propose`` (None when this core has no click-to-measure)."""
    try:
        from response_tool.reading.measure import propose
    except ImportError:
        return None
    return propose


class Station:
    """Undo / redo, proposals and predicted positions of one Reading panel."""

    def __init__(self, panel: ReadingPanel) -> None:
        self.panel = panel
        #: the proposal on screen: kind → endpoints as proposed (patient mm, z y x)
        self.proposal: dict[str, np.ndarray] = {}
        self.proposal_lesion: str | None = None
        #: the click the proposal on screen came from (world mm, z y x)
        self.seed: np.ndarray | None = None
        #: the core's Proposal on screen (its mask and volumes are stored on accept) and the
        #: series its mask lies on
        self.found: Any = None
        self.found_series: str | None = None
        self._layer: Any = None

    def threshold_changed(self) -> None:
        """The viable threshold changed: the proposal on screen is proposed again from its click."""
        if self.proposal and self.seed is not None \
                and self.proposal_lesion == self.panel.selected_lesion():
            self.propose_at(self.seed)

    # -- undo / redo ---------------------------------------------------------------------------
    def undo(self) -> str | None:
        return self._history("undo")

    def redo(self) -> str | None:
        return self._history("redo")

    def _history(self, which: str) -> str | None:
        panel = self.panel
        if panel.session is None:
            panel.say("open a read first")
            return None
        try:
            label = getattr(panel.session, which)()
        except ResponseToolError as exc:
            panel.say(str(exc))
            return None
        if label is None:
            panel.say(f"nothing to {which}")
            return None
        panel.say(f"{which} {label}" if which == "redo" else f"undone: {label}")
        self.show_buttons()
        return label

    def show_buttons(self) -> None:
        session = self.panel.session
        self.panel.undo_button.setEnabled(bool(session is not None and session.can_undo))
        self.panel.redo_button.setEnabled(bool(session is not None and session.can_redo))

    # -- click-to-measure ----------------------------------------------------------------------
    def start_measure(self) -> None:
        """Measure: at a follow-up where the selected lesion's position is predicted, propose
        there at once; else (or refused there) the next click on the canvas is the seed."""
        panel = self.panel
        if core_propose() is None:
            panel.say("click-to-measure needs response_tool.reading.measure.propose, which this "
                      "core does not have yet: draw the lines")
            return
        lesion_id = panel.selected_lesion()
        if lesion_id is None:
            panel.say("select a lesion first, then Measure and click inside it")
            return
        point, why_not = self._predicted(lesion_id)
        if point is not None:
            panel.next_click.disarm()  # Measure replaces a click armed before (a correction)
            panel.locator.show(point)  # the view and the cross where the proposal comes from
            _, refused = self._propose(point, "at its predicted position")
            if refused is None:
                return
            why_not = f"nothing proposed at its predicted position ({refused})"
        panel.next_click.arm("measure", self.propose_at)
        panel.say(f"{lesion_id}: {why_not} — click inside it on the current study" if why_not
                  else f"click inside {lesion_id} on the current study")

    def _predicted(self, lesion_id: str) -> tuple[Any, str]:
        """Where to propose without a click (None at the baseline, without a prediction, or
        before the follow-up is registered: an unregistered prediction can be centimetres off),
        and why not, for the message."""
        panel, session = self.panel, self.panel.session
        if session is None or session.current == session.baseline:
            return None, ""
        date = session.current
        if session.registration(date) is None and date in panel.registrar.running:
            return None, "its position is not predicted yet (registering in the background)"
        try:
            found = session.predicted_position(lesion_id, date)
        except ResponseToolError as exc:
            return None, str(exc)
        if found is None or (found[1] != date and session.registration(date) is None):
            return None, ""
        return np.asarray(found[0], dtype=float).reshape(-1)[:3], ""

    @property
    def measuring(self) -> bool:
        """The next click on the canvas is click-to-measure's seed."""
        return self.panel.next_click.armed == "measure"

    def propose_at(self, seed_zyx_mm: Any) -> dict[str, np.ndarray]:
        """Propose the selected lesion's lines from a seed (world mm, z y x), as a click would."""
        lines, refused = self._propose(seed_zyx_mm)
        if refused is not None:
            self.panel.say(refused)
        return lines

    def _propose(self, seed_zyx_mm: Any, where: str = "") -> tuple[dict[str, np.ndarray],
                                                                   str | None]:
        """The proposal from a seed, shown; or why there is none (the core's refusal)."""
        panel = self.panel
        lesion_id = panel.selected_lesion()
        propose = core_propose()
        if propose is None or lesion_id is None or panel.session is None:
            return {}, "select a lesion first"
        volumes = panel.hanging.current_volumes()
        base = volumes.get(Phase.PORTAL_VENOUS) or volumes.get(Phase.ARTERIAL) \
            or next(iter(volumes.values()), None)
        if base is None:
            return {}, "no image of the current study to measure on"
        self.seed = np.asarray(seed_zyx_mm, dtype=float)
        try:
            proposal = propose(base, tuple(float(v) for v in seed_zyx_mm),
                               volumes.get(Phase.ARTERIAL), viable_k=panel.viable_k)
        except ResponseToolError as exc:
            return {}, str(exc)
        found = {k: np.asarray(getattr(proposal, str(k)), dtype=float) for k in PROPOSAL_KINDS
                 if getattr(proposal, str(k), None) is not None}
        self.found_series = None if base.series is None else base.series.series_instance_uid
        self.show_proposal(lesion_id, found, proposal, where)
        return found, None

    def show_proposal(self, lesion_id: str, lines: dict[str, np.ndarray], proposal: Any = None,
                      where: str = "") -> None:
        """Put proposed lines (kind → 2 endpoints, patient mm) on the editable proposals layer;
        the message says what the core says of ``proposal`` (:func:`proposal_text`)."""
        placed = self._layer is not None and self._layer in self.panel.viewer.layers
        layer = self._proposal_layer()
        layer.data = []
        self.proposal = {str(k): np.asarray(v, dtype=float) for k, v in lines.items()}
        self.proposal_lesion, self.found = lesion_id, proposal
        labels = lesion_labels([(lesion_id, k, float(np.linalg.norm(v[1] - v[0])))
                                for k, v in self.proposal.items()])
        for (kind, ends), label in zip(self.proposal.items(), labels, strict=True):
            layer.feature_defaults = {"kind": kind, "label": f"{label} ?" if label else ""}
            layer.add_lines([ends], edge_color=COLORS[DiameterKind(kind)],
                            edge_width=WIDTHS[DiameterKind(kind)])
        set_visible(layer, True)
        if not placed:  # a new proposals layer goes into the current study's pane (once)
            self.panel.hanging.apply()
        self.panel.say(proposal_text(lesion_id, self.proposal, proposal, where))

    @property
    def proposal_layer(self) -> Any:
        """The proposals layer (None until a first proposal)."""
        return self._layer

    def _proposal_layer(self) -> Any:
        if self._layer is None or self._layer not in self.panel.viewer.layers:
            self._layer = self.panel.viewer.add_shapes(
                ndim=3, name="proposals", edge_width=0.8, face_color="transparent",
                units=("mm", "mm", "mm"),
                features={"kind": np.array([], dtype=object), "label": np.array([], dtype=object)},
                text={"string": "{label}", "size": 13, "color": "white", "anchor": "lower_left"})
        return self._layer

    def accept(self) -> list[str]:
        """Store the proposal on screen as one action: every line on the proposals layer (as
        proposed, or edited when the reader moved it), the lesion's volumes and its mask."""
        panel = self.panel
        if not self.proposal or self._layer is None or panel.session is None:
            panel.say("nothing proposed to accept: Measure, then click inside the lesion")
            return []
        lesion_id = self.proposal_lesion
        image = panel.context.current_image()
        lines = {}
        for i in range(len(self._layer.data)):
            kind = str(self._layer.features.loc[i, "kind"])
            data = np.asarray(self._layer.data[i], dtype=float)
            ends = np.asarray([self._layer.data_to_world(p) for p in (data[0], data[-1])])
            edited = not np.allclose(ends, self.proposal[kind], atol=1e-6)
            slice_index = None if image.layer is None else \
                int(round(float(image.layer.world_to_data(ends[0])[0])))
            phase = Phase.ARTERIAL if kind == DiameterKind.VIABLE else image.phase
            lines[kind] = LineRecord(ends.tolist(), image.series_uid, phase, slice_index,
                                     origin="edited" if edited else "proposed")
        try:
            m = panel.session.accept_proposal(lesion_id, lines, self.found, self.found_series)
        except ResponseToolError as exc:
            panel.say(str(exc))
            return []
        self._layer.data = []  # empty, it draws nothing: hiding it would re-lay out the panes
        self.proposal, self.found = {}, None
        kept = panel.session.segmentation(lesion_id) is not None
        panel.say(f"{lesion_id}: accepted {', '.join(lines)}"
                  + (f"; {m.volume_detail()}" if m.volume_mm3 is not None else "")
                  + ("" if kept or m.volume_mm3 is None else
                     " (its mask is not kept: the image is not a DICOM series)"))
        return list(lines)


def proposal_text(lesion_id: str, lines: dict[str, np.ndarray], proposal: Any,
                  where: str = "") -> str:
    """The message of a proposal: its lines' lengths, its volumes, its confidence and every
    warning the core gave (a low confidence always comes with one)."""
    text = f"proposed for {lesion_id}{f' {where}' if where else ''}: " + ", ".join(
        f"{k} {np.linalg.norm(v[1] - v[0]):.1f} mm" for k, v in lines.items())
    volume = getattr(proposal, "volume_mm3", None)
    if volume is not None:
        text += f"; {volumes_text(volume, getattr(proposal, 'enhancing_volume_mm3', None))}"
    if getattr(proposal, "confidence", None):
        text += f" — confidence {proposal.confidence}"
    text += "".join(f"\n⚠ {w}" for w in getattr(proposal, "warnings", ()))
    return text + "\nedit the lines if needed, then accept"

