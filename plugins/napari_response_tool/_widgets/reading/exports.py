"""The Reading panel's exports: the read as CSV (the engine's input and output) and as DICOM
SR / SEG — the DICOM export from the button in a worker thread, so the window stays live while
an SR per time point and the SEGs are built and written (seconds)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import QFileDialog

from response_tool.domain.errors import ResponseToolError
from response_tool.io.measurements_csv import measurements_for_csv
from response_tool.io.output import FileSet, Output, check_files
from response_tool.reading.store import ReadKey, ReadStore

if TYPE_CHECKING:
    from .panel import ReadingPanel


class _StoreView:
    """What :func:`~napari_response_tool._dicom_export.export_read_dicom` reads of a session
    (its store and read key), for a worker that has its own connection to the store."""

    def __init__(self, store: ReadStore, key: ReadKey) -> None:
        self.store, self.key = store, key


class Exports:
    """The export buttons of one Reading panel."""

    def __init__(self, panel: ReadingPanel) -> None:
        self.panel = panel
        #: the DICOM export running in the background (None: none)
        self.worker: Any = None
        #: the panel was closed: an export that finishes later says nothing (this object, not
        #: the panel, gets the panel's ``destroyed``: Qt does not call a slot of the widget
        #: being destroyed)
        self.closed = False
        panel.destroyed.connect(self._close)
        panel.export_button.clicked.connect(self._choose_csv)
        panel.dicom_export_button.clicked.connect(self._choose_dicom)

    def _choose_csv(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.panel, "Export measurements and responses to")
        if folder:
            self.csv(folder)

    def _choose_dicom(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.panel, "Export the read as DICOM SR / SEG to")
        if folder:
            self.dicom_in_background(folder)

    def dicom_in_background(self, folder: str | Path) -> Any:
        """:meth:`dicom` in a worker thread. The worker opens the store on its own connection
        (an SQLite connection stays on its thread) and reads what is saved — every edit is saved
        when it is made. The panel says what was written, or why nothing was, when it is done.
        Returns the worker (None: refused)."""
        from napari.qt.threading import thread_worker

        from ..._dicom_export import export_read_dicom

        panel, session = self.panel, self.panel.session
        if session is None:
            panel.say("open a read first")
            return None
        path, key = session.store.path, session.key
        studies = list(panel.context.studies.values())

        def work() -> Any:
            with ReadStore(path) as store:
                return export_read_dicom(_StoreView(store, key), folder, studies)

        worker = thread_worker(work, start_thread=False)()
        worker.returned.connect(lambda files: self._written(folder, files))
        worker.errored.connect(self._failed)
        worker.finished.connect(self._done)
        panel.dicom_export_button.setEnabled(False)  # one export at a time into a folder
        panel.say(f"exporting the read as DICOM to {folder} …")
        self.worker = worker
        worker.start()
        return worker

    def _close(self, *_args: Any) -> None:
        """The panel (its viewer) closed: an export still writing is waited for, so no thread
        outlives the application with a file half-written (the file set is all or nothing)."""
        self.closed = True
        if self.worker is not None:
            from qtpy.QtCore import QThreadPool

            QThreadPool.globalInstance().waitForDone(120_000)

    def _done(self) -> None:
        self.worker = None
        if not self.closed:
            self.panel.dicom_export_button.setEnabled(True)

    def _failed(self, exc: BaseException) -> None:
        if not self.closed:
            self.panel.say(str(exc))

    def _written(self, folder: str | Path, files: Any) -> None:
        if self.closed:
            return
        notes = "".join(f"\n{n}" for n in getattr(files, "notes", []))
        self.panel.say(f"{len(files)} DICOM files written to {folder}: "
                       + ", ".join(p.name for p in files) + notes)

    def dicom(self, folder: str | Path) -> list[Path]:
        """The read as DICOM into ``folder`` (:func:`napari_response_tool._dicom_export.export_read_dicom`:
        an SR per time point, a SEG of the burden outlines), referencing the images of the
        studies the read was opened on; the panel says what was written, or why nothing was."""
        from ..._dicom_export import export_read_dicom

        panel, session = self.panel, self.panel.session
        if session is None:
            panel.say("open a read first")
            return []
        try:
            files = export_read_dicom(session, folder, list(panel.context.studies.values()))
        except ResponseToolError as exc:
            panel.say(str(exc))
            return []
        self._written(folder, files)
        return list(files)

    def csv(self, folder: str | Path, burden: Any = None,
            htb_scheme: str = "liu2022") -> dict[str, Path]:
        """measurements.csv (engine input), responses.csv and bor.csv (engine output); with a
        ``burden`` table (see :func:`response_tool.burden.read_burden_table`) the responses carry
        each time point's HTB."""
        session = self.panel.context.require_session()
        out = Path(folder)
        paths = {"measurements": out / "measurements.csv", "responses": out / "responses.csv",
                 "bor": out / "bor.csv"}
        if session.result is None:
            raise ResponseToolError(f"no responses to export yet: {session.problem}")
        if burden is None:  # the burden estimates saved with the time points, if any
            saved = session.store.burden_frame([session.key])
            burden = saved if len(saved) else None
        # the read's own options, also when a burden table joins the responses
        result = session.result if burden is None else \
            session.assess_with_burden(burden, htb_scheme)
        # the three files as one set: all of them or none, never a mix of two exports
        out.mkdir(parents=True, exist_ok=True)
        check_files([Output(p, f"the export's {name}", p.name) for name, p in paths.items()], {})
        with FileSet() as files:
            with files.open(paths["measurements"], "w", newline="", encoding="utf-8") as fh:
                # what the store holds: every edit was saved when it was made
                measurements_for_csv(session.store.measurements_frame([session.key])).to_csv(
                    fh, index=False)
            result.stage_csv(files, paths["responses"], paths["bor"])
        self.panel.say(f"exported to {out}")
        return paths
