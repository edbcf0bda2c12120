"""The Reading panel's *Export SR / SEG*: the open read as DICOM, Qt-free.

:func:`export_read_dicom` writes the read of a :class:`~response_tool.reading.session.ReadingSession`
— one Comprehensive 3D SR (TID 1500) per time point, a DICOM SEG plus a NIfTI of the burden
outlines of each time point that has them, and a DICOM SEG of the lesion masks (accepted
click-to-measure proposals) of each time point that has them — into a folder, through the same core as
``response-tool dicom-export`` (:func:`response_tool.exchange.export.dicom_export`): the same files,
the same rules (the folder is new, empty, or one ``dicom-export`` wrote before; all files or none),
the same one-line errors (:class:`~response_tool.domain.errors.ResponseToolError`). No Qt and no
viewer here: the panel's button calls it and shows the error or the notes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from response_tool.domain.errors import ResponseToolError


class ExportedFiles(list):  # type: ignore[type-arg]
    """The paths written (a ``list[Path]``), with ``notes``: what the export says of them (a
    line on an interpolated plane referenced on the nearest image, …), to be shown."""

    def __init__(self, paths: Iterable[Path], notes: Iterable[str] = ()) -> None:
        super().__init__(paths)
        self.notes: list[str] = list(notes)


def images_folder(images_root: Any) -> Path:
    """The patient folder holding the read's images: a folder as given, or the common folder
    of the series files of a list of studies (``StudyInfo``, as the Reading panel holds them)."""
    if images_root is None:
        raise ResponseToolError("export the read as DICOM: the SR references the read's images; "
                                "give the patient's image folder (the Patient panel's folder)")
    if isinstance(images_root, (str, os.PathLike)):
        return Path(images_root)
    files = [str(f) for study in images_root for series in study.series for f in series.files]
    if not files:
        raise ResponseToolError("export the read as DICOM: the studies given hold no image "
                                "files; give the patient's image folder")
    common = Path(os.path.commonpath(files))
    return common if common.is_dir() else common.parent


def export_read_dicom(session: Any, folder: str | os.PathLike[str],
                      images_root: Any = None) -> ExportedFiles:
    """Write the session's read as DICOM into ``folder``: ``<patient>_<reader>_<date>_<time
    point>_SR.dcm`` per time point, ``…_burden_SEG.dcm`` + ``…_burden_outlines.nii.gz`` where
    the read has burden outlines, ``…_lesions_SEG.dcm`` where it has lesion masks.
    ``images_root``: the patient's image folder (or the studies the read was opened on), which
    the SR's references and lines are taken from. Returns the paths written (with their
    ``notes``); raises ResponseToolError, writing nothing, when the images lack a series of the
    read, ``folder`` is another program's, …"""
    from response_tool.exchange.export import dicom_export

    images = images_folder(images_root)
    key = session.key
    files, notes = dicom_export(session.store, images, folder, patient=key.patient_id,
                                reader=key.reader_id)
    return ExportedFiles(files, notes)
