"""Bad-input corpus: series whose contrast phase the header cannot honestly name, through
``response-tool inspect`` (issue 15, item 6). Each is accepted (exit 0) with what it is said in
the phase evidence: a projection or a localizer is not a reading series, an ambiguous keyword is
not taken without context, a contradiction is reported."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from corpus import Case, check

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
TCIA = SHARED / "tcia-hcc-tace-seg-first-slices"
PYDICOM = Path(pydicom.__file__).parent / "data" / "test_files" / "dicomdirtests"


def _tcia(patient: str) -> Path:
    return next((TCIA / patient).iterdir())


def _copy(*sources: Path) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        folder = tmp / "series"
        folder.mkdir()
        for i, source in enumerate(sources):
            shutil.copy(source, folder / f"{i:03d}.dcm")
        return ["inspect", str(folder)]
    return make


def _edited(source: Path, **tags: object) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        folder = tmp / "series"
        folder.mkdir()
        ds = pydicom.dcmread(source)
        for keyword, value in tags.items():
            setattr(ds, keyword, value)
        ds.save_as(folder / "slice.dcm")
        return ["inspect", str(folder)]
    return make


CASES = [
    Case("mr-angio-mip", "phase", "an MR angiography MIP (ImageType PROJECTION IMAGE, "
         "'ANGIO Projected from C'; pydicom's test files)",
         _copy(*sorted((PYDICOM / "98892003" / "MR700").iterdir())),
         "not a reading series: ImageType DERIVED\\SECONDARY\\PROJECTION IMAGE", code=0),
    Case("mr-localizer", "phase", "an MR localizer ('FAST LOCALIZER', ImageType OTHER)",
         _copy(PYDICOM / "98892003" / "MR1" / "15820"), "a localizer (scout); phase left unknown",
         code=0),
    Case("ct-mip-arterial", "phase", "a CT MIP named arterial (ImageType DERIVED\\SECONDARY\\MIP)",
         _edited(_tcia("HCC_015"), SeriesDescription="MIP 10mm arterial",
                 ImageType=["DERIVED", "SECONDARY", "MIP"]),
         "not a reading series", code=0),
    Case("ap-abdomen-pelvis", "phase", "'LIVER 3 PHASE (AP)' in a study 'CT ABD/PEL LIV' (real "
         "TCIA header: AP is abdomen/pelvis)", _copy(_tcia("HCC_015")),
         'keyword "AP" read as anatomy', code=0),
    Case("ap-alone", "phase", "'AP 2.5mm' with no study description (ambiguous keyword, no "
         "context)", _edited(_tcia("HCC_015"), SeriesDescription="AP 2.5mm",
                             StudyDescription=""),
         'keyword "AP" is ambiguous', code=0),
    Case("mr-tof-angio", "phase", "an MR '3D TOF ANGIO' series with no contrast agent",
         _edited(PYDICOM / "98892003" / "MR2" / "4950", SeriesDescription="3D TOF ANGIO",
                 ProtocolName="3D TOF ANGIO"),
         "may be without contrast (time of flight)", code=0),
    Case("pre-with-agent", "phase", "a series named 'PRE LIVER' with a contrast agent recorded",
         _edited(_tcia("HCC_002"), ContrastBolusAgent="Omnipaque 350"),
         "conflict: a contrast agent is recorded on a series named non-contrast", code=0),
    Case("dose-report", "phase", "a 'Dose Report' series (a screen capture, not images to read)",
         _edited(_tcia("HCC_002"), SeriesDescription="Dose Report",
                 ImageType=["DERIVED", "SECONDARY", "OTHER"]),
         "a dose report / screen capture", code=0),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case, tmp_path):
    check(case, tmp_path)
