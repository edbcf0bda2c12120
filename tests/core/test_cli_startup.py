"""The command line starts without the heavy libraries, its help texts are clean and every doc
they cite exists (issue 16). Which libraries a start imports is checked here; how long it takes
is measured in benchmarks/bench_cli_startup.py, never timed in a test."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from response_tool import cli

REPO = Path(__file__).resolve().parents[2]
IMAGING = ("pydicom", "SimpleITK", "highdicom", "pylibjpeg", "openjpeg", "libjpeg", "rle")
TABLES = ("numpy", "pandas", "pyarrow", "scipy", "matplotlib", "statsmodels", "lifelines")


def _loaded_by(argv: list[str], cwd: Path | None = None) -> tuple[int, set[str], str]:
    """Run ``response-tool argv`` in a fresh interpreter; its exit code, the top-level packages it
    imported and its stderr."""
    code = ("import json, sys\n"
            "from response_tool.cli import main\n"
            "try:\n    rc = main(sys.argv[1:])\n"
            "except SystemExit as exc:\n    rc = exc.code or 0\n"
            "print('\\n' + json.dumps([rc, sorted({m.split('.')[0] for m in sys.modules})]))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          cwd=cwd or REPO, env=env, check=False, timeout=300)
    rc, modules = json.loads(done.stdout.strip().splitlines()[-1])
    return rc, set(modules), done.stderr


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["inspect", "--help"],
                                  ["phantom", "--help"], ["agreement", "--help"]],
                         ids=" ".join)
def test_help_and_version_import_no_heavy_library(argv):
    rc, modules, _ = _loaded_by(argv)
    assert rc == 0
    assert not modules & {*IMAGING, *TABLES}, sorted(modules & {*IMAGING, *TABLES})


def test_assess_help_imports_no_imaging_library():
    rc, modules, _ = _loaded_by(["assess", "--help"])
    assert rc == 0
    assert not modules & set(IMAGING), sorted(modules & set(IMAGING))


def _small_cohort(tmp_path: Path) -> Path:
    from response_tool.phantom.cohort import generate_cohort

    return Path(generate_cohort(tmp_path / "cohort", n_patients=12, n_readers=2, seed=3)["measurements"])


def test_assess_reads_a_csv_without_any_imaging_library(tmp_path):
    csv = _small_cohort(tmp_path)
    rc, modules, err = _loaded_by(["assess", str(csv), "-o", str(tmp_path / "r.csv"),
                                   "--bor", str(tmp_path / "b.csv")])
    assert rc == 0, err
    assert (tmp_path / "r.csv").stat().st_size > 0 and (tmp_path / "b.csv").stat().st_size > 0
    assert not modules & {*IMAGING, "matplotlib", "lifelines", "statsmodels"}, \
        sorted(modules & {*IMAGING, "matplotlib", "lifelines", "statsmodels"})


def test_assess_is_clean_under_deprecation_warnings_as_errors(tmp_path):
    """``python -W error::DeprecationWarning -m response_tool assess …``: NumPy's generic NaT
    unit, pandas' and pyarrow's deprecations all become errors, and none is raised."""
    csv = _small_cohort(tmp_path)
    done = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-W",
                           "error::FutureWarning", "-m", "response_tool", "assess", str(csv), "-o",
                           str(tmp_path / "r.csv"), "--bor", str(tmp_path / "b.csv")],
                          capture_output=True, text=True, cwd=REPO, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr


# -- the lazy parser is the full parser -------------------------------------------------------
def _commands(parser) -> dict[str, object]:
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return {a.dest: a.help for a in sub._choices_actions}, sub.choices


def test_summaries_are_the_help_the_commands_give():
    helps, _ = _commands(cli.build_parser())
    for module, (name, text) in cli.SUMMARIES.items():
        if module in cli.COMMAND_MODULES:
            assert helps[name] == text, f"{module}: SUMMARIES differs from its add_parser help"
    lazy_helps, _ = _commands(cli.build_parser("assess", lazy=True))
    assert lazy_helps == helps  # --help lists the same commands, in the same order


@pytest.mark.parametrize(("argv", "expected"), [
    (["--version"], None), ([], None), (["-h"], None), (["assess", "x.csv", "-o", "y"], "assess"),
    (["--version", "inspect"], "inspect"), (["report", "--help"], "report")])
def test_the_chosen_command_is_the_first_word(argv, expected):
    assert cli.chosen_command(argv) == expected


def test_a_usage_error_still_names_the_command(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["assess", "in.csv", "-o", "out.csv", "--no-such-option"])
    assert exc.value.code == 2
    assert "response-tool: error: unrecognized arguments: --no-such-option" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["asess"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "invalid choice: 'asess'" in err
    assert all(name in err for name, _ in cli.SUMMARIES.values())  # every command is offered


# -- help texts ---------------------------------------------------------------------------------
def _every_help(monkeypatch) -> dict[str, str]:
    monkeypatch.setenv("COLUMNS", "100000")  # no wrapping: a doc path stays on one line
    parser = cli.build_parser()
    _, choices = _commands(parser)
    return {"response-tool": parser.format_help(),
            **{name: p.format_help() for name, p in choices.items()}}


def test_help_texts_print_no_doubled_percent(monkeypatch):
    for name, text in _every_help(monkeypatch).items():
        assert "%%" not in text, f"{name} --help prints a literal %%"


def test_every_doc_the_command_line_cites_exists(monkeypatch):
    cited = {(name, doc) for name, text in _every_help(monkeypatch).items()
             for doc in re.findall(r"docs/[\w./-]+?\.md", text)}
    assert cited, "no doc cited at all: the pattern is wrong"
    missing = sorted(f"{name} cites {doc}" for name, doc in cited if not (REPO / doc).is_file())
    assert not missing, missing
