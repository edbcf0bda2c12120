"""Write the golden outputs of the refactoring of issue 10 ("outputs unchanged").

Run once with the code *before* a refactoring step (``.venv/bin/python tests/golden/make_golden.py``);
``tests/core/test_golden.py`` then checks that today's code writes every file byte for byte.

What is here (see README.md beside this file):

* ``phantom/``   ``response-tool assess`` on the phantom's ground-truth measurements (seed 0);
* ``cohort/``    the seeded synthetic cohort (response_tool/phantom/cohort.py: 300 patients, 3 readers) with its
  burden table, default options;
* ``cohort-options/`` the same cohort with every assessment option away from its default;
* ``pyrecist/``  the pyrecist synthetic fixture of ../shared/data in the measurements schema;
* ``report/``    ``response-tool report`` on the cohort: its page, tables and SVG figures;
* ``demo/``      the Reading panel's export of ``make demo``'s read (written by the plugin test
  ``test_make_demo_writes_the_ground_truth_responses_and_reports`` with ``--golden``: needs napari).
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

#: Every assessment option away from its default (the CLI flags of ``assess``).
OPTIONS = ["--confirm-weeks", "8", "--sd-min-weeks", "12", "--ne-tolerated", "0",
           "--too-small-mm", "4", "--mrecist-pd-min-mm", "5"]


def _cohort_module():
    from response_tool.phantom import cohort
    return cohort


def pyrecist_measurements(shared_data: Path, out: Path) -> Path:
    """The pyrecist fixture as a measurements CSV (targets only, longest diameters)."""
    meas = pd.read_csv(shared_data / "pyrecist-synthetic" / "synthetic_measurements.csv", dtype=str)
    frame = pd.DataFrame({
        "patient_id": meas["patient_id"], "reader_id": "R1",
        "timepoint_date": [dt.datetime.strptime(d, "%Y%m%d").date().isoformat()
                           for d in meas["study_date"]],
        "lesion_id": meas["lesion_label_alias"], "role": meas["lesion_category"], "organ": "liver",
        "is_nodal": "false", "long_axis_mm": meas["measurement"], "short_axis_mm": "",
        "viable_long_axis_mm": "", "status": "measured"})
    path = out / "pyrecist_measurements.csv"
    frame.to_csv(path, index=False)
    return path


def cases(work: Path) -> dict[str, list[str]]:
    """Each golden folder → the ``response-tool`` arguments that write it (``{out}`` = its folder)."""
    from response_tool.phantom import generate_phantom

    phantom = work / "phantom"
    generate_phantom(phantom, seed=0)
    paths = _cohort_module().generate_cohort(work / "cohort", n_patients=300, n_readers=3, seed=0)
    pyrecist = pyrecist_measurements(SHARED_DATA, work)
    gt = str(phantom / "ground_truth_measurements.csv")
    m, b = str(paths["measurements"]), str(paths["burden"])
    return {
        "phantom": ["assess", gt, "-o", "{out}/responses.csv", "--bor", "{out}/bor.csv"],
        "cohort": ["assess", m, "--burden", b, "-o", "{out}/responses.csv", "--bor", "{out}/bor.csv"],
        "cohort-options": ["assess", m, "--burden", b, "--htb-scheme", "touloupas2021", *OPTIONS,
                           "-o", "{out}/responses.csv", "--bor", "{out}/bor.csv"],
        "pyrecist": ["assess", str(pyrecist), "--criteria", "recist1.1", "-o", "{out}/responses.csv",
                     "--bor", "{out}/bor.csv"],
        "report": ["report", "{golden}/cohort/responses.csv", "--bor", "{golden}/cohort/bor.csv",
                   "--clinical", str(paths["clinical"]), "-o", "{out}"],
    }


def golden_input(arg: str, golden: Path, work: Path) -> str:
    """A ``{golden}/…`` argument as a plain file: a golden file kept packed (``.gz``) is unpacked
    into ``work/_golden_inputs`` (the report reads the golden cohort, not today's engine)."""
    rel = arg.replace("{golden}/", "")
    path = golden / rel
    if path.is_file():
        return str(path)
    packed = path.with_name(path.name + ".gz")
    if not packed.is_file():
        raise SystemExit(f"golden input {rel} is missing: run make_golden.py")
    target = work / "_golden_inputs" / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(gzip.decompress(packed.read_bytes()))
    return str(target)


def run_case(args: list[str], out: Path, golden: Path) -> None:
    """Run one case; what it prints on stdout is kept as ``stdout.txt`` beside its files (with
    the temporary folder's path replaced by ``{out}``)."""
    import contextlib
    import io

    from response_tool.cli import main

    filled = [golden_input(a, golden, out.parent) if "{golden}" in a else a.replace("{out}", str(out))
              for a in args]
    if filled[0] != "report":
        out.mkdir(parents=True, exist_ok=True)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(filled)
    if code != 0:
        raise SystemExit(f"response-tool {' '.join(filled)} exited {code}")
    (out / "stdout.txt").write_text(printed.getvalue().replace(str(out), "{out}"), encoding="utf-8")


COMPARED = (".csv", ".txt", ".html", ".svg")
#: a golden file larger than this is kept gzip-compressed (``NAME.gz``, no time stamp, so the
#: same bytes give the same file): the cohort's RESPONSES.csv is 2.4 MB as text, ~0.2 MB packed
PACK_BYTES = 256 * 1024


def plain(path: Path) -> Path:
    """The output a golden file stands for (``responses.csv.gz`` → ``responses.csv``)."""
    return path.with_suffix("") if path.suffix == ".gz" else path


def compared_files(folder: Path) -> list[Path]:
    """The files of a golden folder compared byte for byte: CSV, text, HTML and SVG (PNG is the
    same drawing as the SVG, rasterised), also when kept packed (``.gz``)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and plain(p).suffix in COMPARED)


def normalised(path: Path) -> bytes:
    """A file's bytes, with what changes on every run taken out: the date matplotlib writes into
    an SVG's metadata, and its element ids (hashes salted with a random uuid), which are numbered
    in order of appearance instead. A packed golden file (``.gz``) gives its unpacked bytes."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    if plain(path).suffix == ".svg":
        data = re.sub(rb"<dc:date>[^<]*</dc:date>", b"<dc:date></dc:date>", data)
        ids: dict[bytes, bytes] = {}

        def number(match: re.Match[bytes]) -> bytes:
            return ids.setdefault(match.group(0), b"id%d" % len(ids))

        data = re.sub(rb"\b[a-z]{1,3}[0-9a-f]{10}\b", number, data)
    return data


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, args in cases(work).items():
            target = HERE / name
            if target.exists():
                shutil.rmtree(target)
            out = work / "out" / name
            run_case(args, out, HERE)
            for path in compared_files(out):
                dest = target / path.relative_to(out)
                dest.parent.mkdir(parents=True, exist_ok=True)
                data = normalised(path)
                if len(data) > PACK_BYTES:
                    dest = dest.with_name(dest.name + ".gz")
                    data = gzip.compress(data, compresslevel=9, mtime=0)
                dest.write_bytes(data)
            print(f"golden: {name}: {len(compared_files(target))} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
