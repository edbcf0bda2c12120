"""Studies from a PACS over DICOMweb (dicomweb-client): QIDO-RS search, WADO-RS retrieve into a
local cache, STOW-RS of our SR / SEG back.

The cache is a plain folder tree, ``CACHE/<PatientID>/<StudyInstanceUID>/<SeriesInstanceUID>/
<SOPInstanceUID>.dcm``, each file written whole (a temporary file renamed into place), so the
study folder opens as any folder does (``inspect``, the Patient panel, ``dicom-export --images``)
and a retrieve interrupted midway resumes with the instances it lacks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from response_tool.domain.errors import ResponseToolError


class PacsError(ResponseToolError):
    """The PACS cannot be reached or refused a request."""


@dataclass(frozen=True)
class StudyHit:
    """One study a QIDO-RS search found."""

    study_uid: str
    patient_id: str
    date: str
    description: str
    modalities: tuple[str, ...]
    n_instances: int | None


def default_cache() -> Path:
    """``dicomweb`` in the user's cache folder (``RESPONSE_TOOL_DICOMWEB_CACHE`` overrides it)."""
    env = os.environ.get("RESPONSE_TOOL_DICOMWEB_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("response-tool", appauthor=False)) / "dicomweb"


def _safe(uid: str) -> str:
    return "".join(ch for ch in str(uid) if ch.isalnum() or ch in ".-_") or "unknown"


def _value(item: dict[str, Any], tag: str) -> Any:
    values = item.get(tag, {}).get("Value") or []
    return values


class Pacs:
    """A DICOMweb server at ``url`` (its root, e.g. ``http://host:8042/dicom-web``)."""

    def __init__(self, url: str) -> None:
        try:
            from dicomweb_client.api import DICOMwebClient
        except ImportError as exc:  # a dependency, but an environment may lack it
            raise PacsError("DICOMweb needs the package dicomweb-client (pip install "
                            "dicomweb-client); it is not installed in this environment") from exc

        self.url = url.rstrip("/")
        self._client = DICOMwebClient(self.url)
        # a busy server (429 / 503 …) is retried twice, quickly; an absent one fails in a second
        self._client.set_http_retry_params(retry=True, max_attempts=3,
                                           wait_exponential_multiplier=200)

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        import requests

        try:
            return fn()
        except requests.exceptions.HTTPError as exc:
            code = exc.response.status_code if exc.response is not None else "?"
            raise PacsError(f"{self.url}: {what} refused (HTTP {code}); check the URL (the "
                            "DICOMweb root) and the server's log") from exc
        except requests.exceptions.RequestException as exc:
            raise PacsError(f"{self.url}: cannot {what} ({type(exc).__name__}); check the URL "
                            "and that the server is running") from exc

    # -- QIDO-RS -----------------------------------------------------------------------------
    def studies(self, patient_id: str | None = None) -> list[StudyHit]:
        filters = {"PatientID": patient_id} if patient_id else None
        found = self._call("search for studies", lambda: self._client.search_for_studies(
            search_filters=filters, fields=["ModalitiesInStudy", "NumberOfStudyRelatedInstances",
                                            "StudyDescription"], get_remaining=True))
        hits = []
        for item in found:
            n = _value(item, "00201208")
            date = str((_value(item, "00080020") or [""])[0])
            hits.append(StudyHit(str((_value(item, "0020000D") or [""])[0]),
                                 str((_value(item, "00100020") or [""])[0]),
                                 f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) >= 8 else date,
                                 str((_value(item, "00081030") or [""])[0]),
                                 tuple(str(m) for m in _value(item, "00080061")),
                                 int(n[0]) if n else None))
        return sorted(hits, key=lambda h: (h.patient_id, h.date, h.study_uid))

    def instances(self, study_uid: str, modality: str | None = None) -> list[dict[str, str]]:
        """The study's instances (optionally of one modality): SOP class / instance and series."""
        filters = {"Modality": modality} if modality else None
        found = self._call("search for instances", lambda: self._client.search_for_instances(
            study_instance_uid=study_uid, search_filters=filters, fields=["Modality"],
            get_remaining=True))
        return [{"sop_instance_uid": str((_value(i, "00080018") or [""])[0]),
                 "sop_class_uid": str((_value(i, "00080016") or [""])[0]),
                 "series_uid": str((_value(i, "0020000E") or [""])[0]),
                 "modality": str((_value(i, "00080060") or [""])[0])} for i in found]

    # -- WADO-RS -----------------------------------------------------------------------------
    def retrieve_study(self, study_uid: str, cache: str | os.PathLike[str] | None = None,
                       progress: Callable[[int], None] | None = None) -> Path:
        """Every instance of the study into the cache (those already there are kept); returns
        the study's folder. ``progress(n)`` after each instance written."""
        steps = self.iter_retrieve(study_uid, cache)
        while True:
            try:
                done, _total = next(steps)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            if progress is not None and done:
                progress(done)

    def iter_retrieve(self, study_uid: str, cache: str | os.PathLike[str] | None = None
                      ) -> Generator[tuple[int, int], None, Path]:
        """:meth:`retrieve_study` one instance at a time: yields ``(written, to write)`` first
        with ``written`` 0, then after each instance is in the cache (streamed: one multipart
        response per series, each instance written as it arrives); returns the study's folder.
        Stopping early (a cancelled retrieve) leaves whole files only: the next retrieve fetches
        the rest."""
        from response_tool.io._atomic import atomic_write

        root = Path(cache) if cache is not None else default_cache()
        have = {p.stem for p in root.glob(f"*/{_safe(study_uid)}/*/*.dcm")}
        wanted = [i for i in self.instances(study_uid) if _safe(i["sop_instance_uid"]) not in have]
        folder: Path | None = next((p.parent.parent for p in root.glob(
            f"*/{_safe(study_uid)}/*/*.dcm")), None)
        by_series: dict[str, list[dict[str, str]]] = {}
        for inst in wanted:
            by_series.setdefault(inst["series_uid"], []).append(inst)
        n = 0
        yield n, len(wanted)
        for series_uid, missing in by_series.items():
            if len(missing) > 1:  # one multipart response per series, streamed
                uids = {i["sop_instance_uid"] for i in missing}
                datasets: Iterator[Any] = (ds for ds in self._stream(
                    "retrieve a series", lambda u=series_uid: self._client.iter_series(
                        study_uid, u)) if str(ds.SOPInstanceUID) in uids)
            else:
                datasets = iter([self._call("retrieve an instance", lambda i=missing[0]: (
                    self._client.retrieve_instance(study_uid, i["series_uid"],
                                                   i["sop_instance_uid"])))])
            for ds in datasets:
                target = (root / _safe(str(ds.get("PatientID", ""))) / _safe(study_uid)
                          / _safe(i_series(ds)) / f"{_safe(str(ds.SOPInstanceUID))}.dcm")
                target.parent.mkdir(parents=True, exist_ok=True)
                with atomic_write(target, "wb") as fh:
                    ds.save_as(fh, enforce_file_format=True)
                folder = target.parent.parent
                n += 1
                yield n, len(wanted)
        if folder is None:
            raise PacsError(f"{self.url}: study {study_uid} has no instances; check the study UID "
                            "(response-tool pacs search)")
        return folder

    def _stream(self, what: str, start: Callable[[], Iterator[Any]]) -> Iterator[Any]:
        """The items of a streamed response, each read under :meth:`_call`'s messages."""
        items = self._call(what, start)
        while True:
            try:
                item = self._call(what, lambda: next(items))
            except StopIteration:
                return
            yield item

    # -- STOW-RS -----------------------------------------------------------------------------
    def store(self, files: Iterable[str | os.PathLike[str]]) -> list[str]:
        """Send the files (our SR / SEG, or any DICOM) to the PACS; returns their SOP Instance
        UIDs as the server acknowledged them."""
        import pydicom

        datasets = [pydicom.dcmread(f) for f in files]
        if not datasets:
            return []
        answer = self._call("store instances", lambda: self._client.store_instances(datasets))
        failed = answer.get("FailedSOPSequence") or []
        if failed:
            uid = failed[0].get("ReferencedSOPInstanceUID", "?")
            raise PacsError(f"{self.url}: refused {len(failed)} of {len(datasets)} instance(s) "
                            f"(first: {uid}, failure reason {failed[0].get('FailureReason')}); "
                            "see the server's log")
        return [str(r.ReferencedSOPInstanceUID) for r in answer.get("ReferencedSOPSequence", [])]


def i_series(ds: Any) -> str:
    return str(ds.get("SeriesInstanceUID", "unknown"))


def store_folder(pacs: Pacs, folder: str | os.PathLike[str], batch: int = 32) -> int:
    """STOW every DICOM file under ``folder`` in batches (uploading a study); returns the count."""
    files: Sequence[Path] = sorted(p for p in Path(folder).rglob("*") if p.is_file()
                                   and not p.name.startswith(".") and _is_dicom(p))
    for i in range(0, len(files), batch):
        pacs.store(files[i:i + batch])
    return len(files)


def _is_dicom(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(132)[128:132] == b"DICM"
