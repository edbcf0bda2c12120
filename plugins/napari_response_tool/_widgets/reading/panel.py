"""Reading panel: lesions and their diameters per time point, RECIST 1.1 and mRECIST side by side.

The reader picks a lesion and a diameter kind (long, short, viable), then draws a line with
napari's line tool on the current axial slice; the line's length in millimetres, its endpoints,
slice, series UID and phase are stored at once (:mod:`response_tool.reading.store`) and the
responses are recomputed. Editing a line (moving a vertex) updates every number.

The panel is a view over the core's :class:`~response_tool.reading.session.ReadingSession`, which
it shares with the other panels of its viewer through the
:class:`~napari_response_tool._context.ViewerContext`. Its parts: the widgets (:mod:`.layout`), the
annotation layers ↔ session (:mod:`.annotations`) and the keys (:mod:`.keys`).
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from response_tool.domain.errors import ResponseToolError
from response_tool.domain.vocabulary import DiameterKind, Role
from response_tool.reading.session import ReadingSession
from response_tool.reading.store import ReadKey, ReadStore

from ..._batch import batched
from ..._context import StudyLoader, ViewerContext
from ..._keymap import DEFAULT_KEYS, check_bindings, collisions, load_bindings
from .annotations import Annotations
from .clicks import NextClick
from .exports import Exports
from .hanging import HangingProtocol
from .keys import bind_keys, shortcuts
from .layout import NO_ENHANCEMENT, ReadingLayout
from .locating import Locator
from .registering import Registrar
from .slices import SliceSlider
from .station import Station

if TYPE_CHECKING:
    import napari

    from response_tool.io import StudyInfo


class ReadingPanel(ReadingLayout):
    """Dock widget: the read of the open patient by one reader (see the module docstring)."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        try:  # the reader's keys ($RESPONSE_TOOL_KEYS), else the defaults
            self.bindings, key_problem = load_bindings(), ""
        except ResponseToolError as exc:
            self.bindings, key_problem = dict(check_bindings(DEFAULT_KEYS)), f"{exc}; default keys used"
        super().__init__(shortcuts(self.bindings))
        self.viewer = napari_viewer
        self.context = ViewerContext.of(napari_viewer)
        self.context.register_reading(self)
        self.store_path: Path | None = None
        self._tabbed = False
        self.annotations = Annotations(self)
        #: prior | current side by side at a follow-up (:mod:`.hanging`)
        self.hanging = HangingProtocol(self)
        #: undo / redo, click-to-measure proposals, predicted positions (:mod:`.station`)
        self.station = Station(self)
        #: follow-ups registered to the baseline in the background (:mod:`.registering`)
        self.registrar = Registrar(self)
        #: the next click on the canvas: click-to-measure's seed or a correction (:mod:`.clicks`)
        self.next_click = NextClick(napari_viewer)
        #: predicted positions and their one-click correction (:mod:`.locating`)
        self.locator = Locator(self)
        #: the slice slider on the displayed series' slices (:mod:`.slices`)
        self.slices = SliceSlider(self)
        #: CSV and DICOM exports (:mod:`.exports`)
        self.exports = Exports(self)

        self.date_box.currentIndexChanged.connect(self._date_chosen)
        self.add_button.clicked.connect(self.add_lesion_from_controls)
        for status, button in self.status_buttons.items():
            button.clicked.connect(lambda _=False, s=status: self.set_status(s))
        self.lesion_table.itemSelectionChanged.connect(self._lesion_selected)
        self.open_button.clicked.connect(self.open_from_patient_panel)
        self.undo_button.clicked.connect(self.undo)
        self.redo_button.clicked.connect(self.redo)
        self.measure_button.clicked.connect(self.start_measure)
        self.accept_button.clicked.connect(self.accept_proposal)
        self.predicted_button.clicked.connect(self.go_to_predicted)
        self.correct_button.clicked.connect(self.correct_position)
        self.viable_k_box.valueChanged.connect(lambda _v: self.station.threshold_changed())
        bind_keys(napari_viewer, self, self.bindings)
        me = weakref.ref(self)  # the context must not keep a closed panel alive
        self.context.image_listeners.append(lambda d: (p := me()) is not None and p._images_in(d))
        for line in [key_problem, *collisions(self.bindings)]:
            if line:
                self.say(line)

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """Shown the first time: docked as a tab beside the Patient panel (issue 23: docked
        under it, the panel showed two rows of its table)."""
        super().showEvent(event)
        if not self._tabbed:
            self._tabbed = True
            self._tab_beside_patient_panel()

    def _tab_beside_patient_panel(self) -> None:
        """A tab with the Patient panel's dock, when both are docked in the same area and the
        reader has not made it a tab already."""
        from qtpy.QtWidgets import QDockWidget

        def dock_of(widget: Any) -> Any:
            while widget is not None and not isinstance(widget, QDockWidget):
                widget = widget.parentWidget()
            return widget

        mine, patient = dock_of(self), dock_of(self.context.patient_panel)
        window = None if mine is None else mine.parentWidget()
        if patient is None or patient is mine or window is None \
                or not hasattr(window, "tabifyDockWidget"):
            return  # no Patient panel docked
        if window.tabifiedDockWidgets(mine) \
                or window.dockWidgetArea(mine) != window.dockWidgetArea(patient):
            return  # already a tab, or the reader put it elsewhere
        window.tabifyDockWidget(patient, mine)
        mine.raise_()

    def _images_in(self, date: str) -> None:
        """A study loaded in the background is in: lay the panes out again."""
        if self.registrar.closed:  # the viewer closed while it loaded
            return
        if self.session is not None and date in self.session.dates:
            self.annotations.show_date()
            self.hanging.apply()
            self.slices.fit()

    def rebind(self, action: str, key: str) -> None:
        """Give ``action`` the key ``key`` (refused if another action has it); the help line
        follows. A key napari also uses is bound, with a warning that napari's wins there."""
        new = check_bindings({**self.bindings, action: key}, where="the panel's keys")
        bind_keys(self.viewer, self, new, previous=self.bindings)
        self.bindings = new
        self.show_keys(shortcuts(new))
        clash = collisions({action: new[action]})
        self.say(clash[0] if clash else f"{action}: {new[action]}")

    # -- undo / redo, click-to-measure, predicted position (the station) ---------------------
    def undo(self) -> str | None:
        return self.station.undo()

    def redo(self) -> str | None:
        return self.station.redo()

    def start_measure(self) -> None:
        self.station.start_measure()

    def accept_proposal(self) -> None:
        self.station.accept()

    def go_to_predicted(self) -> Any:
        """Move to the selected lesion's predicted position; returns it (z, y, x mm) or None."""
        return self.locator.go_to_predicted()

    def correct_position(self) -> None:
        """The next click says where the selected lesion really is on the current study."""
        self.locator.start_correct()

    @property
    def viable_k(self) -> float:
        """Click-to-measure's viable threshold: arterial enhancement above the surrounding liver
        in spreads of its noise (the panel's "viable >" box)."""
        return float(self.viable_k_box.value())

    @property
    def session(self) -> ReadingSession | None:
        """The open read (the viewer's, shared with the other panels)."""
        return self.context.session

    @property
    def date_listeners(self) -> list[Any]:
        """Called with the new date whenever the time point changes (the context's list)."""
        return self.context.date_listeners

    # the annotation layers, by date (tests and benchmarks reach them by these names)
    @property
    def _layers(self) -> dict[str, Any]:
        return self.annotations.lines.layers

    @property
    def _marks(self) -> dict[str, Any]:
        return self.annotations.marks.layers

    def _shapes(self, date: str) -> Any:
        return self.annotations.lines.layer(date)

    def _points(self, date: str) -> Any:
        return self.annotations.marks.layer(date)

    # -- opening a read ---------------------------------------------------------------------
    def start(self, patient_id: str, studies: list[StudyInfo],
              store: ReadStore | str | Path | None = None, reader_id: str | None = None,
              load_study: StudyLoader | None = None) -> ReadingSession:
        """Open (or create) the read of ``patient_id`` over ``studies`` (StudyInfo, date order).

        ``load_study(study)`` loads a study's reading series as layers (the Patient panel's
        ``load_study``); with it, switching time point brings that study's images up."""
        if reader_id:
            self.reader_box.setText(reader_id)
        if not isinstance(store, ReadStore):
            store = ReadStore(store)
        self.store_path = store.path
        self.store_label.setText(f"Saved on every change to {store.path}")
        dates = [s.study_date.isoformat() for s in studies if s.study_date]
        key = store.open_read(patient_id, self.reader_box.text().strip() or "R1")
        lead = self.lead_box.text().strip()
        if lead and lead != key.reader_id and not store.lesions(key) \
                and lead in store.readers(patient_id):
            copied = store.copy_lesions(ReadKey(patient_id, lead), key)
            self.say(f"targets fixed by {lead}: {', '.join(copied)} — measure them blind")
        for s in studies:
            if s.study_date:
                store.add_timepoint(key, s.study_date, s.study_instance_uid)
        session = ReadingSession(store, key, dates)
        self.set_dates(session.dates)
        self._follow(session)
        self.context.open_read(session, studies, load_study)
        self.annotations.restore()
        self.hanging.apply()
        self.slices.fit()
        self.update_views()
        self._resume(store.position(key))
        return session

    def _resume(self, where: tuple[str, str | None] | None) -> None:
        """A read opened again starts where its reader stopped: that time point, that lesion."""
        session = self.session
        if session is None or where is None:
            return
        date, lesion_id = where
        if date in session.dates and date != session.current:
            self.go_to(date)
        if lesion_id and lesion_id in {les.lesion_id for les in session.lesions()}:
            self.select_lesion(lesion_id)

    def _remember(self) -> None:
        """Where the reader is (time point, lesion), kept with the read for its next opening."""
        session = self.session
        if session is None:
            return
        try:
            session.store.save_position(session.key, session.current, self.selected_lesion())
        except ResponseToolError as exc:  # not worth stopping the reading for; said
            self.say(f"where you are in the read was not saved: {exc}")

    def _follow(self, session: ReadingSession) -> None:
        """The views follow ``session``'s events (:mod:`response_tool.reading.events`) — and no
        longer those of the read open before (another reader's, another patient's)."""
        old = self.session
        if old is not None and old is not session:
            for signal, slot in self._subscriptions(old):
                signal.disconnect(slot, missing_ok=True)
        for signal, slot in self._subscriptions(session):
            signal.connect(slot)

    def _subscriptions(self, session: ReadingSession) -> list[tuple[Any, Any]]:
        """Who listens to what (docs/design.md, "The reading session's events")."""
        events = session.events
        return [(events.measurement, self.annotations.on_measurement),
                (events.measurement, self.hanging.on_measurement),
                (events.reloaded, self.annotations.restore),
                (events.responses, self._on_responses),
                (events.registration, self.hanging.on_registration)]

    def _on_responses(self, _event: Any = None) -> None:
        """The responses were recomputed (after any change): the table, the responses, the
        messages and the undo / redo buttons."""
        self.update_views()
        self.station.show_buttons()

    def open_from_patient_panel(self) -> ReadingSession | None:
        """Start (or resume) this reader's read of the patient open in the Patient panel, saved in
        the default store (the user's data folder, or ``$RESPONSE_TOOL_STORE``)."""
        studies = self.context.patient_studies()
        if not studies:
            self.say("open a patient folder in the Patient panel first")
            return None
        try:
            # the reader's path: studies load in the background, the displayed slice first
            return self.start(self.context.patient_id(), studies, None,
                              load_study=self.context.load_study_async)
        except ResponseToolError as exc:
            self.say(str(exc))
            return None

    def open_reader(self, reader_id: str) -> ReadingSession:
        """The open patient's read by ``reader_id`` (same studies, store and images), at the
        current time point."""
        session = self.context.require_session()
        current = session.current
        opened = self.start(session.key.patient_id, list(self.context.studies.values()),
                            session.store, reader_id=reader_id, load_study=self.context.loader)
        if current in opened.dates:
            self.go_to(current)
        return opened

    def reload(self) -> None:
        """Re-read the open read from the store (after a change made elsewhere, e.g. a value
        taken into the adjudicated read) and redraw its lines."""
        if self.session is None:
            return
        self.session.reload()  # announced: the lines are restored, the table redrawn
        self.context.session_changed()

    # -- actions ----------------------------------------------------------------------------
    def add_lesion_from_controls(self) -> str | None:
        return self.add_lesion(self.role_box.currentText(), self.organ_box.currentText(),
                               self.nodal_box.isChecked())

    def add_lesion(self, role: str, organ: str, nodal: bool = False) -> str | None:
        if self.session is None:
            self.say("open a patient first")
            return None
        try:
            lesion_id = self.session.new_lesion(role, organ, nodal)
        except ResponseToolError as exc:
            self.say(str(exc))
            return None
        self.select_lesion(lesion_id)
        self.say(f"{lesion_id} added: draw its {'short' if nodal else 'long'} axis")
        self.set_kind(DiameterKind.SHORT if nodal and role == Role.TARGET else DiameterKind.LONG)
        return lesion_id

    def set_status(self, status: str) -> None:
        """The selected lesion's status now (a :class:`Status`, or ``NO_ENHANCEMENT``)."""
        lesion_id = self.selected_lesion()
        if self.session is None or lesion_id is None:
            self.say("select a lesion first")
            return
        try:
            if status == NO_ENHANCEMENT:
                self.session.no_enhancement(lesion_id)
            else:
                self.session.set_status(lesion_id, status)
        except ResponseToolError as exc:
            self.say(str(exc))
            return
        self.select_lesion(lesion_id)

    def add_mark(self, lesion_id: str, point_mm: Any) -> None:
        """Mark a non-target or new lesion at ``point_mm`` (world z, y, x), as a click would."""
        self.annotations.add_mark(lesion_id, point_mm)

    def go_to(self, date: str) -> None:
        session = self.context.require_session()
        session.go_to(date)  # announced: the table and the responses follow
        self.locator.hide_marker()
        self.show_date(session.dates.index(date))
        with batched(self.viewer):  # every layer of both panes in one scene update
            self.annotations.show_date(images=False)  # the panes' images: the hanging protocol's
            stride = self.hanging.lay_out()
        self.hanging.finish(stride)
        self.slices.fit()
        lesion_id = self.selected_lesion()
        if lesion_id is not None:  # the selected lesion stays in view at the new time point
            self.locator.follow(lesion_id)
        self._remember()
        self.context.time_point_changed(date)

    def step_date(self, delta: int) -> None:
        if self.session is not None:
            dates = self.session.dates
            i = min(max(dates.index(self.session.current) + delta, 0), len(dates) - 1)
            self.go_to(dates[i])

    def _date_chosen(self, index: int) -> None:
        if self.session is None or index < 0:
            return
        self.go_to(self.session.dates[index])

    def show_date_layers(self) -> None:
        """The current time point's lines and images shown; other time points hidden."""
        if self.session is not None:
            self.annotations.show_date()

    def jump_to(self, lesion_id: str, date: str | None = None) -> None:
        """Move the slice to where the lesion was measured (at ``date``, default the current)."""
        self.annotations.jump_to(lesion_id, date)

    def _lesion_selected(self) -> None:
        lesion_id = self.selected_lesion()
        self.locator.hide_marker()
        if lesion_id and self.session is not None:
            self.jump_to(lesion_id)
            self._remember()

    def toggle_phase(self) -> None:
        """Swap arterial / portal-venous in every pane (prior and current) at once."""
        self.hanging.toggle_phase()
        self.slices.fit()

    # -- views ------------------------------------------------------------------------------
    def update_views(self) -> None:
        session = self.session
        if session is None:
            return
        self.show_lesions(session.rows())
        date = session.current
        tag = "baseline" if date == session.baseline else \
            f"follow-up {session.dates.index(date)}"
        self.show_responses(f"<b>Responses at {date} ({tag})</b> — updated in "
                            f"{session.last_update_ms:.0f} ms", session.responses())
        self.show_messages(session.problem, session.warnings)

    # -- export (:mod:`.exports`) -----------------------------------------------------------
    def export(self, folder: str | Path, burden: Any = None,
               htb_scheme: str = "liu2022") -> dict[str, Path]:
        return self.exports.csv(folder, burden, htb_scheme)

    def export_dicom(self, folder: str | Path) -> list[Path]:
        return self.exports.dicom(folder)

    def export_dicom_in_background(self, folder: str | Path) -> Any:
        return self.exports.dicom_in_background(folder)
