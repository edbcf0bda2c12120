"""The reading station's operations beyond drawing: undo / redo, click-to-measure proposals and
the predicted position of a lesion at follow-up — each a few calls into the core.

* **Undo / redo** are the session's (store-backed: they survive a restart); after each the lines
  and marks are restored from the read and every panel is told (``session_changed``).
* **Click-to-measure**: after *Measure* (button or key) the next click on the canvas is a seed;
  the core's ``response_tool.reading.measure.propose(volume, seed_zyx_mm, arterial)`` returns
  long, short and viable line endpoints (patient mm), which go on an ordinary editable shapes
  layer (``proposals``). Nothing is stored until the reader accepts (button or key); each accepted
  line is stored as *proposed* or, when the reader moved it first, *edited*.
* The **viable threshold** (the panel's "viable >" box: arterial enhancement above the
  surrounding liver, in spreads of the liver's own noise) is the core's ``viable_k``; changing it
  while a proposal is on screen proposes again from the same click.

(The predicted position and its one-click correction are :mod:`.locating`.) When the core does
not offer ``propose`` (an older core), the panel says so in its message line; nothing else
changes.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from response_tool.domain.errors import ResponseToolError
from response_tool.domain.vocabulary import DiameterKind, Phase
from response_tool.reading.session import LineRecord

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
        active = panel.viewer.layers.selection.active
        mode = getattr(active, "mode", None)
        panel.annotations.restore()
        panel.hanging.apply()
        panel.update_views()
        panel.context.session_changed()
        if active is not None and active in panel.viewer.layers:  # the reader keeps drawing
            panel.viewer.layers.selection.active = active
            if mode is not None and active.mode != mode:
                active.mode = mode
        panel.say(f"{which} {label}" if which == "redo" else f"undone: {label}")
        self.show_buttons()
        return label

    def show_buttons(self) -> None:
        session = self.panel.session
        self.panel.undo_button.setEnabled(bool(session is not None and session.can_undo))
        self.panel.redo_button.setEnabled(bool(session is not None and session.can_redo))

    # -- click-to-measure ----------------------------------------------------------------------
    def start_measure(self) -> None:
        panel = self.panel
        if core_propose() is None:
            panel.say("click-to-measure needs response_tool.reading.measure.propose, which this "
                      "core does not have yet: draw the lines")
            return
        if panel.selected_lesion() is None:
            panel.say("select a lesion first, then Measure and click inside it")
            return
        panel.next_click.arm("measure", self.propose_at)
        panel.say(f"click inside {panel.selected_lesion()} on the current study")

    @property
    def measuring(self) -> bool:
        """The next click on the canvas is click-to-measure's seed."""
        return self.panel.next_click.armed == "measure"

    def propose_at(self, seed_zyx_mm: Any) -> dict[str, np.ndarray]:
        """Propose the selected lesion's lines from a seed (world mm, z y x), as a click would."""
        panel = self.panel
        lesion_id = panel.selected_lesion()
        propose = core_propose()
        if propose is None or lesion_id is None or panel.session is None:
            return {}
        volumes = panel.hanging.current_volumes()
        base = volumes.get(Phase.PORTAL_VENOUS) or volumes.get(Phase.ARTERIAL) \
            or next(iter(volumes.values()), None)
        if base is None:
            panel.say("no image of the current study to measure on")
            return {}
        self.seed = np.asarray(seed_zyx_mm, dtype=float)
        try:
            proposal = propose(base, tuple(float(v) for v in seed_zyx_mm),
                               volumes.get(Phase.ARTERIAL), viable_k=panel.viable_k)
        except ResponseToolError as exc:
            panel.say(str(exc))
            return {}
        found = {k: np.asarray(getattr(proposal, str(k)), dtype=float) for k in PROPOSAL_KINDS
                 if getattr(proposal, str(k), None) is not None}
        self.show_proposal(lesion_id, found)
        return found

    def show_proposal(self, lesion_id: str, lines: dict[str, np.ndarray]) -> None:
        """Put proposed lines (kind → 2 endpoints, patient mm) on the editable proposals layer."""
        layer = self._proposal_layer()
        layer.data = []
        self.proposal = {str(k): np.asarray(v, dtype=float) for k, v in lines.items()}
        self.proposal_lesion = lesion_id
        labels = lesion_labels([(lesion_id, k, float(np.linalg.norm(v[1] - v[0])))
                                for k, v in self.proposal.items()])
        for (kind, ends), label in zip(self.proposal.items(), labels, strict=True):
            layer.feature_defaults = {"kind": kind, "label": f"{label} ?" if label else ""}
            layer.add_lines([ends], edge_color=COLORS[DiameterKind(kind)],
                            edge_width=WIDTHS[DiameterKind(kind)])
        layer.visible = True
        self.panel.hanging.apply()  # the proposals go in the current study's pane
        self.panel.say(f"proposed for {lesion_id}: " + ", ".join(
            f"{k} {np.linalg.norm(v[1] - v[0]):.1f} mm" for k, v in self.proposal.items())
            + " — edit the lines if needed, then accept")

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
        """Store every proposed line (as proposed, or edited when the reader moved it)."""
        panel = self.panel
        if not self.proposal or self._layer is None or panel.session is None:
            panel.say("nothing proposed to accept: Measure, then click inside the lesion")
            return []
        lesion_id = self.proposal_lesion
        stored = []
        image = panel.context.current_image()
        fields = {f.name for f in dataclasses.fields(LineRecord)}
        for i in range(len(self._layer.data)):
            kind = str(self._layer.features.loc[i, "kind"])
            data = np.asarray(self._layer.data[i], dtype=float)
            ends = np.asarray([self._layer.data_to_world(p) for p in (data[0], data[-1])])
            edited = not np.allclose(ends, self.proposal[kind], atol=1e-6)
            extra = {"origin": "edited" if edited else "proposed"} if "origin" in fields else {}
            slice_index = None if image.layer is None else \
                int(round(float(image.layer.world_to_data(ends[0])[0])))
            phase = Phase.ARTERIAL if kind == DiameterKind.VIABLE else image.phase
            try:
                panel.session.record_line(lesion_id, kind, LineRecord(
                    ends.tolist(), image.series_uid, phase, slice_index, **extra))
            except ResponseToolError as exc:
                panel.say(str(exc))
                return stored
            stored.append(kind)
        self._layer.data = []
        self._layer.visible = False
        self.proposal = {}
        panel.annotations.restore()
        panel.hanging.apply()
        panel.update_views()
        panel.say(f"{lesion_id}: accepted {', '.join(stored)}")
        return stored
