"""Bad-input corpus: output paths (issue 15, items 1 and 4) — an output that is an input, a
duplicate, a folder, a link, a FIFO, a device, a missing or unwritable folder; ``report -o`` on a
folder it did not write; formula-like ids; a BOR from another study. Then the output layer and the
safe exports in detail: a set written all or none, the report folder's marker, neutralised cells,
pseudonyms and shifted dates, every baseline warning in the warnings CSV."""

from __future__ import annotations

import csv
import errno
import os
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from corpus import Case, check, run_cli, snapshot

HEADER = ("patient_id,reader_id,timepoint_date,lesion_id,role,organ,is_nodal,long_axis_mm,"
          "short_axis_mm,viable_long_axis_mm,status")
ROWS = ["{p},R1,2026-01-05,T1,target,liver,false,40,,30,measured",
        "{p},R1,2026-03-02,T1,target,liver,false,30,,10,measured"]
MARKER = ".response-tool-report"
Make = Callable[[Path], list[str]]


def measurements(tmp: Path, patients: tuple[str, ...] = ("P1",), name: str = "m.csv") -> Path:
    path = tmp / name
    rows = [r.format(p=_csv_cell(p)) for p in patients for r in ROWS]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def assessed(tmp: Path, patients: tuple[str, ...] = ("P1",), stem: str = "responses") -> tuple[Path, Path]:
    """responses + BOR of a small read (the measurements removed: only the outputs stay)."""
    m = measurements(tmp, patients, name=f"{stem}-m.csv")
    responses, bor = tmp / f"{stem}.csv", tmp / f"{stem}-bor.csv"
    result = run_cli(["assess", str(m), "-o", str(responses), "--bor", str(bor)])
    assert result.code == 0, result.stderr
    m.unlink()
    (tmp / f"{stem}.warnings.csv").unlink()
    return responses, bor


def assess(*extra: str, setup: Callable[[Path], object] | None = None) -> Make:
    """``assess m.csv EXTRA…`` (``{tmp}`` in EXTRA is the test's folder) after ``setup(tmp)``."""
    def make(tmp: Path) -> list[str]:
        m = measurements(tmp)
        if setup is not None:
            setup(tmp)
        return ["assess", str(m), *(e.replace("{tmp}", str(tmp)) for e in extra)]
    return make


def report(out: str, *extra: str, setup: Callable[[Path], object] | None = None,
           inputs_in: str = "") -> Make:
    """``report responses.csv --bor BOR -o OUT`` (inputs in ``{tmp}/inputs_in``)."""
    def make(tmp: Path) -> list[str]:
        where = tmp / inputs_in
        where.mkdir(exist_ok=True)
        responses, bor = assessed(where)
        if setup is not None:
            setup(tmp)
        return ["report", str(responses), "--bor", str(bor), "-o", out.replace("{tmp}", str(tmp)),
                *(e.replace("{tmp}", str(tmp)) for e in extra)]
    return make


# -- what the cases set up -------------------------------------------------------------------------

def _file(rel: str, text: str = "keep me\n") -> Callable[[Path], object]:
    def setup(tmp: Path) -> None:
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    return setup


def _link(rel: str, to: str) -> Callable[[Path], object]:
    def setup(tmp: Path) -> None:
        os.symlink(to, tmp / rel)
    return setup


def _both(*setups: Callable[[Path], object]) -> Callable[[Path], object]:
    def setup(tmp: Path) -> None:
        for s in setups:
            s(tmp)
    return setup


def _hard_link(tmp: Path) -> None:
    os.link(tmp / "m.csv", tmp / "same.csv")


def _fifo(tmp: Path) -> None:
    os.mkfifo(tmp / "pipe.csv")


def unwritable_folder(tmp: Path) -> Path:
    """A folder in which no file can be created, also by root: ``chmod`` does not stop root, but
    sysfs refuses every new file (EACCES) to everyone; an ordinary user gets a 0555 folder."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def _unwritable(tmp: Path) -> list[str]:
    return ["assess", str(measurements(tmp)), "-o", str(unwritable_folder(tmp) / "responses.csv")]


def _earlier_report(tmp: Path) -> None:
    """A folder `report` wrote before: its marker lists index.html and tables/old.csv; notes.txt
    is the user's."""
    rep = tmp / "rep"
    (rep / "tables").mkdir(parents=True)
    (rep / MARKER).write_text("# written by `response-tool report`\nindex.html\ntables/old.csv\n")
    (rep / "index.html").write_text("<html>old report</html>")
    (rep / "tables" / "old.csv").write_text("a,b\n1,2\n")
    (rep / "notes.txt").write_text("the user's notes\n")


def _legacy_report(tmp: Path) -> None:
    """A report written before the marker existed: only its page, tables and figures."""
    rep = tmp / "rep"
    (rep / "tables").mkdir(parents=True)
    (rep / "figures").mkdir()
    (rep / "index.html").write_text("<!doctype html><html lang=en><meta charset=utf-8><title>"
                                    "Response report</title><p>Written by response-tool (RECIST "
                                    "1.1 rules)</p></html>\n")
    (rep / "tables" / "old.csv").write_text("a,b\n1,2\n")
    (rep / "figures" / "old.png").write_bytes(b"\x89PNG")


def _not_ours_in_marked(tmp: Path) -> None:
    """A marked folder holding a file with a report table's name that the marker does not list."""
    rep = tmp / "rep"
    (rep / "tables").mkdir(parents=True)
    (rep / MARKER).write_text("index.html\n")
    (rep / "index.html").write_text("<html>old report</html>")
    (rep / "tables" / "response_distribution.csv").write_text("the user's own table\n")


def _input_is_own_file(tmp: Path) -> list[str]:
    """The responses passed in are a file the marked report folder lists as its own."""
    responses, bor = assessed(tmp)
    rep = tmp / "rep"
    (rep / "tables").mkdir(parents=True)
    own = rep / "tables" / "response_distribution.csv"
    own.write_bytes(responses.read_bytes())
    (rep / MARKER).write_text("tables/response_distribution.csv\n")
    return ["report", str(own), "--bor", str(bor), "-o", str(rep)]


def _other_study(tmp: Path) -> list[str]:
    responses, _bor = assessed(tmp, ("P1", "P2"))
    _r, other = assessed(tmp, ("X7", "X8"), stem="other")
    return ["report", str(responses), "--bor", str(other), "-o", str(tmp / "report")]


def _other_reader(tmp: Path) -> list[str]:
    responses, bor = assessed(tmp)
    text = bor.read_text().replace('"R1"', '"R9"')
    (tmp / "bor-r9.csv").write_text(text)
    return ["report", str(responses), "--bor", str(tmp / "bor-r9.csv"), "-o", str(tmp / "report")]


def _formula_ids(tmp: Path) -> list[str]:
    m = measurements(tmp, ("=HYPERLINK(\"http://x\")", "-12.5", "@SUM(A1)", "+1 555"))
    return ["assess", str(m), "-o", str(tmp / "r.csv"), "--bor", str(tmp / "b.csv")]


def _empty_key(tmp: Path) -> list[str]:
    (tmp / "key.txt").write_text("\n")
    return ["assess", str(measurements(tmp)), "-o", str(tmp / "r.csv"), "--pseudonymise",
            f"file:{tmp / 'key.txt'}"]


def _phantom_into(setup: Callable[[Path], object], *extra: str, out: str = "data") -> Make:
    def make(tmp: Path) -> list[str]:
        setup(tmp)
        return ["phantom", str(tmp / out), *extra]
    return make


R, B, W = "r.csv", "b.csv", "r.warnings.csv"
CASES = [
    # assess: an output that is an input
    Case("output-is-input", "output", "assess -o the measurements CSV itself",
         assess("-o", "{tmp}/m.csv"), "is the input measurements CSV", names="m.csv"),
    Case("bor-is-input", "output", "assess --bor the measurements CSV",
         assess("-o", "{tmp}/r.csv", "--bor", "{tmp}/m.csv"), "is the input", names="m.csv",
         outputs=(R, W)),
    Case("output-hard-link-of-input", "output", "assess -o a hard link of the measurements CSV",
         assess("-o", "{tmp}/same.csv", setup=_hard_link), "is the input", names="same.csv"),
    Case("output-is-input-via-dotdot", "output", "assess -o sub/../m.csv (the input, spelt otherwise)",
         assess("-o", "{tmp}/sub/../m.csv", setup=lambda t: (t / "sub").mkdir()), "is the input",
         names="m.csv"),
    Case("output-is-burden", "output", "assess --burden b.csv -o b.csv",
         assess("--burden", "{tmp}/burden.csv", "-o", "{tmp}/burden.csv",
                setup=_file("burden.csv", "patient_id\n")), "is the input --burden",
         names="burden.csv"),
    Case("warnings-is-input", "output", "assess --warnings the measurements CSV",
         assess("-o", "{tmp}/r.csv", "--warnings", "{tmp}/m.csv"), "is the input", names="m.csv",
         outputs=(R,)),
    # duplicates
    Case("bor-equals-output", "output", "assess --bor equal to -o",
         assess("-o", "{tmp}/r.csv", "--bor", "{tmp}/r.csv"), "given for both -o and --bor",
         names="r.csv", outputs=(R, W)),
    Case("bor-is-default-warnings", "output", "assess --bor r.warnings.csv beside -o r.csv (the "
         "default warnings file)", assess("-o", "{tmp}/r.csv", "--bor", "{tmp}/r.warnings.csv"),
         "given for both --bor and the warnings csv", names="r.warnings.csv", outputs=(R, W)),
    # not a regular file
    Case("output-is-folder", "output", "assess -o an existing folder",
         assess("-o", "{tmp}/results", setup=lambda t: (t / "results").mkdir()), "is a folder",
         names="results"),
    Case("bor-is-folder", "output", "assess --bor an existing folder",
         assess("-o", "{tmp}/r.csv", "--bor", "{tmp}/results",
                setup=lambda t: (t / "results").mkdir()), "is a folder", names="results",
         outputs=(R, W)),
    Case("output-is-symlink", "output", "assess -o a symbolic link to an existing file",
         assess("-o", "{tmp}/link.csv", setup=_both(_file("target.csv"), _link("link.csv", "target.csv"))),
         "is a symbolic link", names="link.csv"),
    Case("output-is-dangling-symlink", "output", "assess -o a symbolic link to nothing",
         assess("-o", "{tmp}/link.csv", setup=_link("link.csv", "nowhere.csv")),
         "--follow-symlinks", names="link.csv", outputs=("nowhere.csv",)),
    Case("output-symlink-followed", "output", "assess -o a symbolic link with --follow-symlinks: "
         "its target is written, the link kept",
         assess("-o", "{tmp}/link.csv", "--follow-symlinks",
                setup=_both(_file("target.csv"), _link("link.csv", "target.csv"))),
         "wrote", code=0, outputs=("target.csv", "link.warnings.csv")),
    Case("symlink-to-input-followed", "output", "assess -o a link to the measurements CSV, with "
         "--follow-symlinks", assess("-o", "{tmp}/link.csv", "--follow-symlinks",
                                     setup=_link("link.csv", "m.csv")),
         "is the input", names="link.csv"),
    Case("output-is-fifo", "output", "assess -o a FIFO (named pipe; never opened)",
         assess("-o", "{tmp}/pipe.csv", setup=_fifo), "FIFO", names="pipe.csv"),
    Case("output-is-device", "output", "assess -o /dev/null (a device: never written)",
         assess("-o", "/dev/null"), "character device", names="/dev/null"),
    Case("bor-is-device", "output", "assess --bor /dev/null",
         assess("-o", "{tmp}/r.csv", "--bor", "/dev/null"), "not a regular file", names="/dev/null",
         outputs=(R, W)),
    # the folder
    Case("output-folder-missing", "output", "assess -o in a folder that does not exist",
         assess("-o", "{tmp}/no-such-folder/r.csv"), "does not exist; create it",
         names="no-such-folder", outputs=("no-such-folder",)),
    Case("output-under-a-file", "output", "assess -o below a file (m.csv/r.csv)",
         assess("-o", "{tmp}/m.csv/r.csv"), "is a file, not a folder", names="m.csv"),
    Case("output-folder-unwritable", "output", "assess -o in a folder nobody may create files in "
         "(sysfs as root, a 0555 folder otherwise)", _unwritable, "permission denied",
         names="responses.csv"),
    Case("warnings-folder-missing", "output", "assess --warnings in a folder that does not exist",
         assess("-o", "{tmp}/r.csv", "--warnings", "{tmp}/gone/w.csv"), "does not exist",
         names="gone", outputs=(R,)),
    Case("empty-pseudonymise-key", "output", "assess --pseudonymise file:KEY with an empty key file",
         _empty_key, "key file is empty", names="key.txt", outputs=(R,)),
    # report -o
    Case("report-into-working-folder", "output", "report -o . (the working folder, holding the "
         "inputs and other files)", report("{tmp}/.", setup=_file("notes.txt")),
         "not written by `response-tool report`", names="responses.csv"),
    Case("report-into-inputs-folder", "output", "report -o the folder holding its inputs",
         report("{tmp}/data", inputs_in="data"), "it holds the input responses",
         names="responses.csv"),
    Case("report-into-unrelated-folder", "output", "report -o an existing folder of other files",
         report("{tmp}/photos", setup=_file("photos/holiday.jpg")), "not written by",
         names="photos"),
    Case("report-into-a-file", "output", "report -o an existing file",
         report("{tmp}/notes.txt", setup=_file("notes.txt")), "is a file", names="notes.txt"),
    Case("report-into-symlink", "output", "report -o a symbolic link to a folder",
         report("{tmp}/rep-link", setup=_both(lambda t: (t / "real").mkdir(),
                                              _link("rep-link", "real"))),
         "is a symbolic link", names="rep-link"),
    Case("report-folder-missing-parent", "output", "report -o in a folder that does not exist",
         report("{tmp}/no/such/report"), "does not exist", names="such"),
    Case("report-foreign-file-in-marked-folder", "output", "report -o a folder it wrote, where a "
         "file with a table's name is not its own", report("{tmp}/rep", setup=_not_ours_in_marked),
         "was not written by", names="response_distribution.csv"),
    Case("report-input-is-own-file", "output", "report -o a folder it wrote, one of whose own files "
         "is the responses given", _input_is_own_file, "is the input responses",
         names="response_distribution.csv"),
    Case("report-into-earlier-report", "output", "report -o a folder it wrote before (marker): its "
         "own files replaced, the user's notes kept", report("{tmp}/rep", setup=_earlier_report),
         "wrote", code=0, outputs=("rep/.response-tool-report", "rep/index.html",
                                   "rep/tables/old.csv")),
    Case("report-into-legacy-report", "output", "report -o a report written before markers existed",
         report("{tmp}/rep", setup=_legacy_report), "wrote", code=0,
         outputs=("rep/index.html", "rep/tables/old.csv", "rep/figures/old.png")),
    Case("report-into-empty-folder", "output", "report -o an empty folder",
         report("{tmp}/rep", setup=lambda t: (t / "rep").mkdir()), "wrote", code=0),
    # inputs that used to give a wrong output in silence
    Case("bor-from-another-study", "csv", "report --bor from another study (no patient in common)",
         _other_study, "no patient in common", names="other-bor.csv", outputs=("report",)),
    Case("bor-of-another-reader", "csv", "report --bor with no row of the reader reported",
         _other_reader, "no best overall response of reader r1", names="bor-r9.csv",
         outputs=("report",)),
    Case("formula-like-ids", "csv", "patient ids starting with =, -, @, + (written neutralised: "
         "'=HYPERLINK…; -12.5 stays a number)", _formula_ids, "wrote", code=0),
    # phantom OUTDIR
    Case("phantom-force-unrelated-folder", "output", "phantom --force into a non-empty folder "
         "that is not a phantom", _phantom_into(_file("data/thesis.tex"), "--force"),
         "not written by `response-tool phantom`", names="data"),
    Case("phantom-into-earlier-phantom", "output", "phantom into an earlier phantom, without "
         "--force", _phantom_into(_file("data/.response-tool-phantom", "ground_truth.json\n")),
         "pass --force", names="data"),
    Case("phantom-into-symlink", "output", "phantom OUTDIR a symbolic link",
         _phantom_into(_both(lambda t: (t / "real").mkdir(), _link("data", "real"))),
         "is a symbolic link", names="data"),
    Case("phantom-into-device", "output", "phantom OUTDIR /dev/null",
         lambda tmp: ["phantom", "/dev/null", "--force"], "character device", names="/dev/null"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case, tmp_path: Path) -> None:
    check(case, tmp_path)


def test_the_corpus_has_twenty_cases_or_more_with_unique_ids():
    assert len(CASES) >= 20
    assert len({c.id for c in CASES}) == len(CASES)


# -- the set: all or none --------------------------------------------------------------------------

def _old_outputs(tmp: Path) -> dict[str, bytes]:
    (tmp / "r.csv").write_text("old responses\n")
    (tmp / "b.csv").write_text("old bor\n")
    return {"r.csv": b"old responses\n", "b.csv": b"old bor\n"}


def _only(tmp: Path, old: dict[str, bytes]) -> None:
    assert {p.name: p.read_bytes() for p in tmp.iterdir() if p.name in old} == old
    assert not [p for p in tmp.iterdir() if p.name.startswith(".")], "staged files left"


def test_a_failed_rename_puts_every_old_output_back(tmp_path, monkeypatch):
    old = _old_outputs(tmp_path)
    m = measurements(tmp_path)
    real = os.replace
    calls = []

    def fail_second(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", fail_second)
    result = run_cli(["assess", str(m), "-o", str(tmp_path / "r.csv"), "--bor", str(tmp_path / "b.csv")])
    assert result.code == 2 and "could not be written" in result.stderr
    monkeypatch.setattr(os, "replace", real)
    _only(tmp_path, old)
    assert not (tmp_path / "r.warnings.csv").exists()


def test_a_full_disk_while_staging_writes_nothing(tmp_path, monkeypatch):
    from response_tool.io import output

    old = _old_outputs(tmp_path)
    real = os.fsync
    calls = []

    def full(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(output.os, "fsync", full)
    result = run_cli(["assess", str(measurements(tmp_path)), "-o", str(tmp_path / "r.csv"),
                      "--bor", str(tmp_path / "b.csv")])
    assert result.code == 2, result.stderr
    assert "no space left on the disk" in result.stderr and "nothing was written" in result.stderr
    _only(tmp_path, old)


def test_a_target_replaced_by_a_fifo_meanwhile_is_not_replaced(tmp_path):
    from response_tool.domain.errors import OutputPathError
    from response_tool.io.output import FileSet

    target = tmp_path / "x.csv"
    with pytest.raises(OutputPathError, match="FIFO"), FileSet() as files:
        with files.open(target) as fh:
            fh.write(b"data")
        os.mkfifo(target)  # appears after the checks, before the rename
    assert target.exists() and not target.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_atomic_write_never_replaces_a_link(tmp_path):
    from response_tool.domain.errors import OutputPathError
    from response_tool.io._atomic import atomic_write

    (tmp_path / "t.csv").write_text("kept")
    os.symlink("t.csv", tmp_path / "l.csv")
    with pytest.raises(OutputPathError, match="symbolic link"), atomic_write(tmp_path / "l.csv") as fh:
        fh.write("new")
    assert (tmp_path / "l.csv").is_symlink() and (tmp_path / "t.csv").read_text() == "kept"


# -- report -o: the marker -------------------------------------------------------------------------

def test_report_replaces_only_its_own_files(tmp_path):
    responses, bor = assessed(tmp_path)
    _earlier_report(tmp_path)
    rep = tmp_path / "rep"
    assert run_cli(["report", str(responses), "--bor", str(bor), "-o", str(rep)]).code == 0
    assert (rep / "notes.txt").read_text() == "the user's notes\n"
    assert not (rep / "tables" / "old.csv").exists()  # its own, no longer written
    listed = [ln for ln in (rep / MARKER).read_text().splitlines() if not ln.startswith("#")]
    on_disk = sorted(p.relative_to(rep).as_posix() for p in rep.rglob("*")
                     if p.is_file() and p.name != MARKER)
    assert sorted(listed) == sorted(set(on_disk) - {"notes.txt"})
    assert "index.html" in listed and any(f.startswith("figures/") for f in listed)
    again = run_cli(["report", str(responses), "--bor", str(bor), "-o", str(rep)])
    assert again.code == 0 and (rep / "notes.txt").exists()
    assert not [p for p in rep.iterdir() if p.name.startswith(MARKER + ".")], "staging left"


def test_report_into_a_new_folder_has_the_usual_permissions(tmp_path):
    responses, bor = assessed(tmp_path)
    assert run_cli(["report", str(responses), "--bor", str(bor), "-o", str(tmp_path / "new")]).code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o777 & ~umask


def test_a_bor_missing_some_patients_is_noted(tmp_path):
    responses, _ = assessed(tmp_path, ("P1", "P2"))
    _, bor = assessed(tmp_path, ("P1",), stem="one")
    result = run_cli(["report", str(responses), "--bor", str(bor), "-o", str(tmp_path / "rep")])
    assert result.code == 0
    assert "1 patient(s) of the responses are not in the BOR" in result.stderr


def test_phantom_force_replaces_only_the_phantoms_own_files(tmp_path, monkeypatch):
    import json

    import response_tool.phantom as phantom

    def fake(outdir, seed=0, progress=None, *, force=False):
        root = Path(outdir)
        (root / "RT-PHANTOM-001").mkdir()
        (root / "RT-PHANTOM-001" / "new.dcm").write_bytes(b"new")
        truth = {"generator": "response-tool phantom", "patient_dir": "RT-PHANTOM-001",
                 "timepoints": []}
        (root / "ground_truth.json").write_text(json.dumps(truth))
        return phantom.PhantomResult(root, root / "RT-PHANTOM-001", root / "ground_truth.json",
                                     truth)

    data = tmp_path / "data"
    (data / "RT-PHANTOM-001").mkdir(parents=True)
    (data / "RT-PHANTOM-001" / "old.dcm").write_bytes(b"old")
    (data / "ground_truth.json").write_text('{"generator": "response-tool phantom", '
                                            '"patient_dir": "RT-PHANTOM-001"}')
    (data / "my-notes.txt").write_text("mine")
    monkeypatch.setattr(phantom, "generate_phantom", fake)
    result = run_cli(["phantom", str(data), "--force"])
    assert result.code == 0, result.stderr
    assert (data / "my-notes.txt").read_text() == "mine"
    assert not (data / "RT-PHANTOM-001" / "old.dcm").exists()
    assert (data / "RT-PHANTOM-001" / "new.dcm").read_bytes() == b"new"
    assert "RT-PHANTOM-001/new.dcm" in (data / ".response-tool-phantom").read_text()
    assert f"phantom written to {data}" in result.stdout


# -- safe exports ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("cell", "written"), [
    ("=1+1", "'=1+1"), ("+1 555", "'+1 555"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("-", "'-"),
    ("-12.5", "-12.5"), ("+3", "+3"), ("-1e-3", "-1e-3"), ("-.5", "-.5"),
    ("P1", "P1"), ("", ""), ("'=already", "'=already"), ("a=b", "a=b"),
])
def test_formula_like_text_is_neutralised_numbers_are_not(cell, written):
    from response_tool.io.export import neutralise_text

    assert neutralise_text(cell) == written


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8", newline="")))


def test_assess_outputs_neutralise_ids_and_keep_negative_numbers(tmp_path):
    m = measurements(tmp_path, ("=HYPERLINK(\"http://x\")", "-12.5", "@SUM(A1)"))
    assert run_cli(["assess", str(m), "-o", str(tmp_path / "r.csv"), "--bor",
                    str(tmp_path / "b.csv")]).code == 0
    for name in ("r.csv", "b.csv"):
        ids = {r["patient_id"] for r in _rows(tmp_path / name)}
        assert ids == {"'=HYPERLINK(\"http://x\")", "-12.5", "'@SUM(A1)"}, name
    changes = [r["pct_change_from_baseline"] for r in _rows(tmp_path / "r.csv")
               if r["pct_change_from_baseline"]]
    assert changes and all(float(c) < 0 and not c.startswith("'") for c in changes)


def test_the_measurements_export_neutralises_and_pseudonymises(tmp_path):
    from response_tool.io.export import ExportOptions, pseudonym
    from response_tool.io.measurements_csv import read_measurements, write_measurements

    frame = read_measurements(measurements(tmp_path, ("=cmd", "P2")))
    write_measurements(frame, tmp_path / "out.csv")
    assert {r["patient_id"] for r in _rows(tmp_path / "out.csv")} == {"'=cmd", "P2"}
    write_measurements(frame, tmp_path / "p.csv", ExportOptions(b"k", 7))
    rows = _rows(tmp_path / "p.csv")
    assert {r["patient_id"] for r in rows} == {pseudonym(b"k", "=cmd"), pseudonym(b"k", "P2")}
    assert {r["timepoint_date"] for r in rows} == {"2026-01-12", "2026-03-09"}


def test_report_tables_are_neutralised(cohort_dir, tmp_path):
    responses = pd.read_csv(cohort_dir / "responses.csv", dtype=str, keep_default_na=False)
    bor = pd.read_csv(cohort_dir / "bor.csv", dtype=str, keep_default_na=False)
    for frame in (responses, bor):
        frame["reader_id"] = "=" + frame["reader_id"]  # "=R1, =R2, =R3" in the agreement table
    responses.to_csv(tmp_path / "responses.csv", index=False)
    bor.to_csv(tmp_path / "bor.csv", index=False)
    result = run_cli(["report", str(tmp_path / "responses.csv"), "--bor", str(tmp_path / "bor.csv"),
                      "--agreement-boot", "0", "-o", str(tmp_path / "rep")])
    assert result.code == 0, result.stderr
    readers = {r["readers"] for r in _rows(tmp_path / "rep" / "tables" / "agreement.csv")}
    assert readers == {"'=R1, =R2, =R3"}
    for table in (tmp_path / "rep" / "tables").glob("*.csv"):
        for row in csv.reader(table.open(encoding="utf-8")):
            assert not any(c[:1] and c[:1] in "=+@" for c in row), table.name


DATE_COLUMNS = {"r.csv": ("timepoint_date", "new_lesion_first_seen"),
                "b.csv": ("baseline_date", "best_overall_response_date", "confirmed_bor_date")}


def _run(tmp: Path, tag: str, *extra: str) -> dict[str, list[dict[str, str]]]:
    out = tmp / tag
    out.mkdir()
    m = tmp / "m.csv"
    if not m.exists():
        measurements(tmp, ("NET0001", "NET0002"))
    result = run_cli(["assess", str(m), "-o", str(out / "r.csv"), "--bor", str(out / "b.csv"),
                      *extra])
    assert result.code == 0, result.stderr
    return {name: _rows(out / name) for name in ("r.csv", "b.csv", "r.warnings.csv")}


def test_pseudonyms_and_shifted_dates_are_consistent_across_files_and_runs(tmp_path):
    from response_tool.io.export import pseudonym

    plain = _run(tmp_path, "plain")
    one = _run(tmp_path, "one", "--pseudonymise", "s3cret", "--shift-dates", "-100")
    two = _run(tmp_path, "two", "--pseudonymise", "s3cret", "--shift-dates", "-100")
    other = _run(tmp_path, "other", "--pseudonymise", "another key")
    assert one == two  # same key, same files
    expected = {pseudonym(b"s3cret", p) for p in ("NET0001", "NET0002")}
    for name in ("r.csv", "b.csv"):
        assert {r["patient_id"] for r in one[name]} == expected
        assert {r["patient_id"] for r in other[name]}.isdisjoint(expected)
        assert all(re.fullmatch(r"P-[0-9a-f]{12}", r["patient_id"]) for r in one[name])
        for before, after in zip(plain[name], one[name], strict=True):
            assert pseudonym(b"s3cret", before["patient_id"]) == after["patient_id"]
            for col in DATE_COLUMNS[name]:
                if before[col]:
                    shift = pd.Timestamp(before[col]) - pd.Timestamp(after[col])
                    assert shift.days == 100, col
                else:
                    assert after[col] == ""
            same = {k for k in before if k != "patient_id" and k not in DATE_COLUMNS[name]}
            assert {k: before[k] for k in same} == {k: after[k] for k in same}


def test_report_pseudonymises_a_raw_clinical_table_to_meet_pseudonymised_responses(cohort_dir,
                                                                                tmp_path):
    m = cohort_dir / "measurements.csv"
    assert run_cli(["assess", str(m), "-o", str(tmp_path / "r.csv"), "--bor", str(tmp_path / "b.csv"),
                    "--pseudonymise", "k"]).code == 0
    args = ["report", str(tmp_path / "r.csv"), "--bor", str(tmp_path / "b.csv"), "--clinical",
            str(cohort_dir / "clinical.csv"), "--agreement-boot", "0"]
    with_key = run_cli([*args, "--pseudonymise", "k", "-o", str(tmp_path / "with")])
    without = run_cli([*args, "-o", str(tmp_path / "without")])
    assert with_key.code == 0 and without.code == 0
    km = "tables/km_os_recist1.1_responders.csv"
    assert _rows(tmp_path / "with" / km)  # the clinical rows met the pseudonymised responses
    assert not _rows(tmp_path / "without" / km)  # raw ids: no patient in common


def test_every_baseline_warning_goes_to_the_warnings_csv(tmp_path):
    patients = tuple(f"P{i:02d}" for i in range(14))
    rows = [f"{p},R1,2026-01-05,T{k},target,liver,false,{v},,,measured"
            for p in patients for k, v in ((1, 40), (2, 30), (3, 20))]  # 3 liver targets: warned
    rows += [f"{p},R1,2026-03-02,T{k},target,liver,false,{v},,,measured"
             for p in patients for k, v in ((1, 40), (2, 30), (3, 20))]
    m = tmp_path / "m.csv"
    m.write_text("\n".join([HEADER, *rows]) + "\n")
    result = run_cli(["assess", str(m), "-o", str(tmp_path / "r.csv"), "--criteria", "recist1.1"])
    assert result.code == 0, result.stderr
    warnings = _rows(tmp_path / "r.warnings.csv")
    assert len(warnings) == 14 and {w["patient_id"] for w in warnings} == set(patients)
    assert "… and 4 more" in result.stdout
    assert "r.warnings.csv (14 warning(s), all listed there)" in result.stderr
    chosen = run_cli(["assess", str(m), "-o", str(tmp_path / "r2.csv"), "--criteria", "recist1.1",
                      "--warnings", str(tmp_path / "all-warnings.csv")])
    assert chosen.code == 0 and len(_rows(tmp_path / "all-warnings.csv")) == 14
    assert not (tmp_path / "r2.warnings.csv").exists()


def test_a_run_without_warnings_still_writes_the_warnings_header(tmp_path):
    m = measurements(tmp_path)
    (tmp_path / "r.warnings.csv").write_text("stale warnings of an earlier run\n")
    assert run_cli(["assess", str(m), "-o", str(tmp_path / "r.csv")]).code == 0
    text = (tmp_path / "r.warnings.csv").read_text()
    assert text.startswith('"patient_id","reader_id","lesion_id"') and text.count("\n") == 1


def test_refused_outputs_leave_the_folder_as_it_was(tmp_path):
    """A sweep: the refusals leave no staged or probe file behind."""
    m = measurements(tmp_path)
    (tmp_path / "d").mkdir()
    before = snapshot(tmp_path)
    for out in (tmp_path / "d", m, Path("/dev/null"), tmp_path / "x" / "r.csv"):
        assert run_cli(["assess", str(m), "-o", str(out)]).code == 2
    assert snapshot(tmp_path) == before
