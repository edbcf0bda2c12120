"""The PACS panel: a patient's studies from a DICOMweb server, opened in the Patient panel.

Search (QIDO-RS) lists the studies of a PatientID; *Open in Patient panel* retrieves them (WADO-RS)
into the local cache (``response_tool.exchange.dicomweb``: only the instances the cache lacks) and
opens the patient's cache folder in the Patient panel, from where reading goes on as from any
folder; *Send the read* exports the open read as DICOM SR (one per time point) and SEG (its
burden outlines) on the Patient panel's images and stores them on the server (STOW-RS);
*Send files…* stores any exported SR / SEG. The work is the core's; this panel
only turns clicks into those calls and shows their one-line errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
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
        layout.addWidget(self.status)

    def _pacs(self) -> Any:
        from response_tool.exchange.dicomweb import Pacs

        return Pacs(self.url.text().strip())

    def search(self) -> list[Any]:
        """QIDO-RS: the studies of the patient typed (every study when empty)."""
        try:
            self.hits = self._pacs().studies(self.patient.text().strip() or None)
        except ResponseToolError as exc:
            self.status.setText(str(exc))
            return []
        self.table.setRowCount(len(self.hits))
        for i, h in enumerate(self.hits):
            n = "" if h.n_instances is None else str(h.n_instances)
            for j, text in enumerate((h.date, h.patient_id, h.description,
                                      "/".join(h.modalities), n)):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.status.setText(f"{len(self.hits)} study(ies) on {self.url.text().strip()}.")
        return self.hits

    def open_patient(self) -> Path | None:
        """WADO-RS: every listed study of the selected row's patient into the cache, then the
        patient's cache folder in the Patient panel."""
        rows = sorted({i.row() for i in self.table.selectedIndexes()}) or [0]
        if not self.hits:
            self.status.setText("Search first: no study listed.")
            return None
        patient_id = self.hits[rows[0]].patient_id
        studies = [h for h in self.hits if h.patient_id == patient_id]
        try:
            pacs = self._pacs()
            folders = [pacs.retrieve_study(h.study_uid, self.cache) for h in studies]
        except ResponseToolError as exc:
            self.status.setText(str(exc))
            return None
        folder = folders[0].parent  # CACHE/<PatientID>: every retrieved study of the patient
        panel = self.context.patient_panel
        if panel is None:
            self.status.setText(f"Retrieved into {folder}; open the Patient panel to read it.")
            return folder
        panel.open_folder(folder)
        self.status.setText(f"{len(studies)} study(ies) of {patient_id} retrieved into {folder} "
                            "and opened in the Patient panel.")
        return folder

    def send(self, paths: list[str | os.PathLike[str]]) -> list[str]:
        """STOW-RS: the files (an exported SR / SEG) to the server."""
        try:
            stored = self._pacs().store(paths)
        except ResponseToolError as exc:
            self.status.setText(str(exc))
            return []
        self.status.setText(f"{len(stored)} instance(s) stored on {self.url.text().strip()}.")
        return stored

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

    def send_read(self) -> list[str]:
        """Export the open read (SR + SEG) and store it on the server."""
        import tempfile

        try:
            folder = Path(tempfile.mkdtemp(prefix="response-tool-send-")) / "read"
            files = self.export_read(folder)
        except ResponseToolError as exc:
            self.status.setText(str(exc))
            return []
        return self.send([f for f in files if f.suffix == ".dcm"])

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "DICOM files to send (SR, SEG)")
        if paths:
            self.send(paths)
