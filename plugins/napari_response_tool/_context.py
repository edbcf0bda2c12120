"""One context per napari viewer: what the plugin's panels share, and the way they find each other.

A panel gets its viewer's context with :meth:`ViewerContext.of` (created on first use, whether
napari hands the panel the viewer or a proxy of it) and registers itself there. Panels never look
into each other: the Reading panel takes the open patient's studies and loader from here, the
Burden and Adjudication panels take the open read (:attr:`ViewerContext.session`), its images and
the Reading panel's public operations from here, and whoever needs to follow the read subscribes to
:attr:`~ViewerContext.session_listeners` ("a read was opened or changed") or
:attr:`~ViewerContext.date_listeners` ("the time point changed").

The registry holds contexts weakly (a context lives as long as a panel holds it) and a context holds
its panels weakly, so neither keeps a closed viewer alive.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from response_tool.domain.errors import ResponseToolError

from ._layers import ImageRecord

if TYPE_CHECKING:
    from response_tool.io import StudyInfo
    from response_tool.reading.session import ReadingSession

    from ._widgets.patient import PatientPanel
    from ._widgets.reading import ReadingPanel

#: loads a study's reading series as image layers (the Patient panel's ``load_study``)
StudyLoader = Callable[["StudyInfo"], Any]

_CONTEXTS: weakref.WeakValueDictionary[int, ViewerContext] = weakref.WeakValueDictionary()


def unwrap(viewer: Any) -> Any:
    """The viewer itself, whether given the viewer or napari's proxy of it."""
    return getattr(viewer, "__wrapped__", viewer)


class CurrentImage(NamedTuple):
    """The topmost visible image loaded from DICOM: what a line drawn now is measured on."""

    series_uid: str | None
    phase: str | None
    layer: Any


class ViewerContext:
    """What the panels of one viewer share (see the module docstring)."""

    def __init__(self, viewer: Any) -> None:
        #: the viewer (unwrapped); the context lives no longer than the panels that hold it
        self.viewer = unwrap(viewer)
        self._patient: weakref.ref[PatientPanel] | None = None
        self._reading: weakref.ref[ReadingPanel] | None = None
        #: the open read (None until the Reading panel opens one)
        self.session: ReadingSession | None = None
        #: the open read's studies by date (ISO), and what loads one of them as layers
        self.studies: dict[str, StudyInfo] = {}
        self.loader: StudyLoader | None = None
        #: called with the session whenever a read is opened or re-read from the store
        self.session_listeners: list[Callable[[ReadingSession], Any]] = []
        #: called with the new date (ISO) whenever the time point changes
        self.date_listeners: list[Callable[[str], Any]] = []
        #: dates whose images a background loader is bringing in; called with the date when in
        self.loading: set[str] = set()
        self.image_listeners: list[Callable[[str], Any]] = []

    @classmethod
    def of(cls, viewer: Any) -> ViewerContext:
        """The context of ``viewer`` (or of the viewer behind napari's proxy), created on first use."""
        raw = unwrap(viewer)
        context = _CONTEXTS.get(id(raw))
        # a live context holds its viewer, so its id cannot have been reused by another viewer
        if context is None:
            context = cls(raw)
            _CONTEXTS[id(raw)] = context
        return context

    # -- panels ------------------------------------------------------------------------------
    def register_patient(self, panel: PatientPanel) -> None:
        self._patient = weakref.ref(panel)

    def register_reading(self, panel: ReadingPanel) -> None:
        self._reading = weakref.ref(panel)

    @property
    def patient_panel(self) -> PatientPanel | None:
        return self._patient() if self._patient is not None else None

    @property
    def reading_panel(self) -> ReadingPanel | None:
        return self._reading() if self._reading is not None else None

    # -- the patient (Patient panel) ---------------------------------------------------------
    def patient_studies(self) -> list[StudyInfo]:
        """The studies of the folder open in the Patient panel, baseline first ([] if none)."""
        panel = self.patient_panel
        return panel.studies() if panel is not None else []

    def patient_id(self) -> str:
        """The open patient's id (from its studies, else the folder's name)."""
        studies = self.patient_studies()
        panel = self.patient_panel
        if studies and studies[0].patient_id:
            return studies[0].patient_id
        return panel.folder.name if panel is not None and panel.folder is not None else ""

    def load_study(self, study: StudyInfo) -> None:
        """Load ``study``'s reading series with the Patient panel (nothing without one)."""
        panel = self.patient_panel
        if panel is not None:
            panel.load_study(study)

    def load_study_async(self, study: StudyInfo) -> Any:
        """Load ``study``'s reading series in the background (the worker; None without a
        Patient panel)."""
        panel = self.patient_panel
        return panel.load_study_async(study) if panel is not None else None

    # -- the read (Reading panel) ------------------------------------------------------------
    def open_read(self, session: ReadingSession, studies: Iterable[StudyInfo],
                  loader: StudyLoader | None) -> None:
        """The Reading panel opened ``session`` over ``studies`` (``loader`` brings one up)."""
        self.session = session
        self.studies = {s.study_date.isoformat(): s for s in studies if s.study_date}
        self.loader = loader
        self.session_changed()

    def session_changed(self) -> None:
        """Tell the session listeners (a read opened, or re-read from the store)."""
        if self.session is not None:
            for listener in list(self.session_listeners):
                listener(self.session)

    def time_point_changed(self, date: str) -> None:
        for listener in list(self.date_listeners):
            listener(date)

    def require_session(self) -> ReadingSession:
        if self.session is None:
            raise ResponseToolError("open a read in the Reading panel first")
        return self.session

    def open_reader(self, reader_id: str) -> ReadingSession:
        """Open the open patient's read by ``reader_id`` in the Reading panel (same studies, store
        and time point), e.g. the adjudicated read."""
        return self._require_reading().open_reader(reader_id)

    def reload_read(self) -> None:
        """Re-read the open read from the store in the Reading panel (after a change elsewhere)."""
        self._require_reading().reload()

    def _require_reading(self) -> ReadingPanel:
        panel = self.reading_panel
        if panel is None or self.session is None:
            raise ResponseToolError("open a read in the Reading panel first")
        return panel

    # -- the read's images -------------------------------------------------------------------
    def images(self, date: str | None = None) -> list[Any]:
        """Image layers loaded from DICOM (of the open read's study of ``date`` when given)."""
        study = self.studies.get(date) if date else None
        out = []
        for layer in self.viewer.layers:
            record = ImageRecord.of(layer)
            if record is not None and (
                    study is None or record.study_instance_uid == study.study_instance_uid):
                out.append(layer)
        return out

    def ensure_images(self, date: str) -> None:
        """Load the study of ``date`` (with the read's loader) unless its images are there or
        on their way. A loader that works in the background returns its worker (with a
        ``finished`` signal): the :attr:`image_listeners` are called with the date when the
        images are in."""
        if self.loader is None or date not in self.studies or self.images(date) \
                or date in self.loading:
            return
        worker = self.loader(self.studies[date])
        finished = getattr(worker, "finished", None)
        if finished is not None:
            self.loading.add(date)
            finished.connect(lambda d=date: self._images_in(d))

    def _images_in(self, date: str) -> None:
        self.loading.discard(date)
        for listener in list(self.image_listeners):
            listener(date)

    def current_image(self) -> CurrentImage:
        """Series UID and phase of the topmost visible image loaded from DICOM."""
        for layer in reversed(list(self.viewer.layers)):
            record = ImageRecord.of(layer)
            if record is not None and layer.visible:
                return CurrentImage(record.series_instance_uid, record.phase, layer)
        return CurrentImage(None, None, None)
