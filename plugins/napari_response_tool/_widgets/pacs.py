"""The PACS panel: a patient's studies from a DICOMweb server, opened in the Patient panel.

Search (QIDO-RS) lists the studies of a PatientID; *Open in Patient panel* retrieves them (WADO-RS)
into the local cache (``response_tool.exchange.dicomweb``: only the instances the cache lacks) and
opens the patient's cache folder in the Patient panel, from where reading goes on as from any
folder; *Send the read* exports the open read as DICOM SR (one per time point) and SEG (its
burden outlines) on the Patient panel's images and stores them on the server (STOW-RS);
*Send files…* stores any exported SR / SEG. The work is the core's; this panel
only turns clicks into those calls and shows their one-line errors.

Every request runs in a napari thread worker, one at a time: the window stays responsive, a
progress bar counts the instances retrieved, *Cancel* stops a retrieve after the instance being
written (the cache keeps whole files only; the next retrieve fetches the rest), and an error is
the panel's status line, never a traceback. Each action returns its worker; the result is in
``hits`` (search), ``folder`` (open) and ``stored`` (send) when it has finished.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from response_tool.domain.errors import ResponseToolError

from .._context import ViewerContext

if TYPE_CHECKING:
    import napari

COLUMNS = ("Date", "Patient", "Description", "Modalities", "Instances")
#: the server the panel starts with (RESPONSE_TOOL_PACS_URL overrides it)
DEFAULT_URL = "http://localhost:8042/dicom-web"


def error_text(exc: BaseException) -> str:
    """What the status line says of a worker's error: the core's one line, else the type."""
    if isinstance(exc, ResponseToolError):
        return str(exc)
    return f"internal error ({type(exc).__name__}: {exc}); please report it"


def retrieve_steps(pacs: Any, study_uids: list[str], cache: Path | None) -> Any:
    """The worker of *Open*: each study into the cache, yielding ``(study k, of n, instances
    written, to write)`` after each instance; returns the study folders."""
    folders = []
    for k, uid in enumerate(study_uids):
        steps = pacs.iter_retrieve(uid, cache)
        while True:
            try:
                done, total = next(steps)
            except StopIteration as stop:
                folders.append(stop.value)
                break
            yield k, len(study_uids), done, total
    return folders


class PacsPanel(QWidget):
    """Dock widget: search a PACS by patient, open the studies, send SR / SEG back."""

    def __init__(self, napari_viewer: napari.Viewer, cache: str | os.PathLike[str] | None = None
                 ) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.context = ViewerContext.of(napari_viewer)
        self.cache = Path(cache) if cache is not None else None
        self.hits: list[Any] = []
        self.url = QLineEdit(os.environ.get("RESPONSE_TOOL_PACS_URL", DEFAULT_URL))
        self.patient = QLineEdit()
        self.patient.setPlaceholderText("PatientID")
        self.worker: Any = None
        self.folder: Path | None = None
        self.stored: list[str] = []
        search = QPushButton("Search")
        search.clicked.connect(lambda: self.search())
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        open_button = QPushButton("Open in Patient panel")
        open_button.clicked.connect(lambda: self.open_patient())
        send = QPushButton("Send files…")
        send.clicked.connect(self._choose_files)
        send_read = QPushButton("Send the read (SR + SEG)")
        send_read.clicked.connect(lambda: self.send_read())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)
        self.actions = [search, open_button, send_read, send]
        self.status = QLabel("Search a patient on the DICOMweb server.")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        for label, field in (("DICOMweb URL", self.url), ("Patient", self.patient)):
            row = QHBoxLayout()
            row.addWidget(QLabel(label))
            row.addWidget(field)
            layout.addLayout(row)
        layout.addWidget(search)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        buttons.addWidget(open_button)
        buttons.addWidget(send_read)
        buttons.addWidget(send)
        layout.addLayout(buttons)
        progress = QHBoxLayout()
        progress.addWidget(self.progress_bar)
        progress.addWidget(self.cancel_button)
        layout.addLayout(progress)
        layout.addWidget(self.status)

    def _pacs(self) -> Any:
        from response_tool.exchange.dicomweb import Pacs

        return Pacs(self.url.text().strip())

    # -- running one request at a time off the UI thread ----------------------------------------
    @property
    def busy(self) -> bool:
        return self.worker is not None

    def _run(self, work: Callable[..., Any], *args: Any, returned: Callable[[Any], None],
             yielded: Callable[[Any], None] | None = None, doing: str = "") -> Any:
        """Start ``work(*args)`` in a thread worker (a generator for progress); the action
        buttons wait for it, Cancel stops it (a generator only, between two yields). The worker
        starts on the next turn of the event loop, so the caller may connect to it first."""
        from napari.qt.threading import create_worker
        from qtpy.QtCore import QTimer

        worker = create_worker(work, *args, _start_thread=False,
                               _connect={"errored": self._failed})
        worker.returned.connect(returned)
        if yielded is not None:
            worker.yielded.connect(yielded)
            worker.aborted.connect(self._cancelled)
        worker.finished.connect(self._finished)
        self.worker = worker
        for button in self.actions:
            button.setEnabled(False)
        self.cancel_button.setEnabled(yielded is not None)
        self.status.setText(doing)
        QTimer.singleShot(0, worker.start)
        return worker

    def _declined(self) -> bool:
        """True (and said) while a request runs: one at a time, none queued."""
        if self.busy:
            self.status.setText("Busy: wait for the request running (or cancel it).")
        return self.busy

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(error_text(exc))

    def _cancelled(self) -> None:
        self.status.setText("Retrieve cancelled; the instances retrieved stay in the cache (open "
                            "again to fetch the rest).")

    def _finished(self) -> None:
        self.worker = None
        for button in self.actions:
            button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress_bar.setVisible(False)

    def cancel(self) -> None:
        """Stop the running retrieve after the instance it is writing."""
        if self.worker is not None:
            self.worker.quit()

    # -- actions ------------------------------------------------------------------------------
    def search(self) -> Any:
        """QIDO-RS: the studies of the patient typed (every study when empty), into ``hits``
        and the table. Returns the worker."""
        if self._declined():
            return None
        url = self.url.text().strip()
        patient_id = self.patient.text().strip() or None
        try:
            pacs = self._pacs()
        except ResponseToolError as exc:
            self.status.setText(str(exc))
            return None
        self.hits = []
        self.table.setRowCount(0)
        return self._run(pacs.studies, patient_id, returned=lambda hits: self._listed(hits, url),
                         doing=f"Searching {url} …")

    def _listed(self, hits: list[Any], url: str) -> None:
        self.hits = hits
        self.table.setRowCount(len(self.hits))
        for i, h in enumerate(self.hits):
            n = "" if h.n_instances is None else str(h.n_instances)
            for j, text in enumerate((h.date, h.patient_id, h.description,
                                      "/".join(h.modalities), n)):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.status.setText(f"{len(self.hits)} study(ies) on {url}.")

    def open_patient(self) -> Any:
        """WADO-RS: every listed study of the selected row's patient into the cache (in a
        worker, with progress and Cancel), then the patient's cache folder in the Patient panel
        (``folder``). Returns the worker."""
        if self._declined():
            return None
        rows = sorted({i.row() for i in self.table.selectedIndexes()}) or [0]
        if not self.hits:
            self.status.setText("Search first: no study listed.")
            return None
        patient_id = self.hits[rows[0]].patient_id
        studies = [h.study_uid for h in self.hits if h.patient_id == patient_id]
        try:
            pacs = self._pacs()
        except ResponseToolError as exc:
            self.status.setText(str(exc))
            return None
        self.folder = None
        self.progress_bar.setRange(0, 0)  # busy until the first count
        self.progress_bar.setVisible(True)
        return self._run(retrieve_steps, pacs, studies, self.cache,
                         returned=lambda folders: self._retrieved(folders, patient_id),
                         yielded=self._retrieving,
                         doing=f"Retrieving {len(studies)} study(ies) of {patient_id} …")

    def _retrieving(self, step: tuple[int, int, int, int]) -> None:
        k, n, done, total = step
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done if total else 1)
        self.status.setText(f"Retrieving study {k + 1} of {n}: {done} / {total} instance(s) "
                            "(the others already in the cache) …")

    def _retrieved(self, folders: list[Path], patient_id: str) -> None:
        folder = folders[0].parent  # CACHE/<PatientID>: every retrieved study of the patient
        self.folder = folder
        panel = self.context.patient_panel
        if panel is None:
            self.status.setText(f"Retrieved into {folder}; open the Patient panel to read it.")
            return
        panel.open_folder(folder)
        self.status.setText(f"{len(folders)} study(ies) of {patient_id} retrieved into {folder} "
                            "and opened in the Patient panel.")

    def send(self, paths: list[str | os.PathLike[str]]) -> Any:
        """STOW-RS: the files (an exported SR / SEG) to the server (in a worker; their SOP
        Instance UIDs in ``stored``). Returns the worker."""
        if self._declined():
            return None
        try:
            pacs = self._pacs()
        except ResponseToolError as exc:
            self.status.setText(str(exc))
            return None
        url = self.url.text().strip()
        self.stored = []
        return self._run(pacs.store, list(paths), returned=lambda uids: self._sent(uids, url),
                         doing=f"Sending {len(paths)} file(s) to {url} …")

    def _sent(self, uids: list[str], url: str) -> None:
        self.stored = uids
        self.status.setText(f"{len(uids)} instance(s) stored on {url}.")

    def export_read(self, out: str | os.PathLike[str]) -> list[Path]:
        """The open read as DICOM SR per time point and SEG / NIfTI of its burden outlines, on the
        Patient panel's images, into the folder ``out`` (``dicom-export``'s rules)."""
        from response_tool.exchange.export import dicom_export

        session = self.context.require_session()
        panel = self.context.patient_panel
        if panel is None or panel.folder is None:
            raise ResponseToolError("open the patient's folder in the Patient panel first: the SR "
                                    "references its images")
        files, notes = dicom_export(session.store, panel.folder, out,
                                    patient=session.key.patient_id, reader=session.key.reader_id)
        self.status.setText(f"{len(files)} file(s) written to {out}"
                            + (f" ({'; '.join(notes)})" if notes else ""))
        return files

    def send_read(self) -> Any:
        """Export the open read (SR + SEG; on the UI thread, which owns the read's store) and
        store it on the server (in a worker). Returns the worker."""
        if self._declined():
            return None
        import tempfile

        try:
            folder = Path(tempfile.mkdtemp(prefix="response-tool-send-")) / "read"
            files = self.export_read(folder)
        except ResponseToolError as exc:
            self.status.setText(str(exc))
            return None
        return self.send([f for f in files if f.suffix == ".dcm"])

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "DICOM files to send (SR, SEG)")
        if paths:
            self.send(paths)
