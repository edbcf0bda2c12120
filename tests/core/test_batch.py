"""``response-tool batch`` on a 2-worker Dask LocalCluster (issue 17): every item's result is the
one its command gives alone; failures are rows of errors.csv; a re-run skips what is done;
``--assess`` over partitions of whole patients writes the files ``assess`` writes."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("distributed")

from response_tool.cli import main  # noqa: E402


def _alone(argv: list[str]) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def manifest(phantom_dir: Path, tmp_path_factory) -> Path:
    truth = json.loads((phantom_dir / "ground_truth.json").read_text())
    rows = []
    for k, tp in enumerate(truth["timepoints"]):
        study = (phantom_dir / tp["series"]["portal-venous"]["folder"]).parent
        rows.append({"id": f"inspect-{k}", "command": "inspect", "path": str(study)})
        rows.append({"id": f"burden-{k}", "command": "burden",
                     "path": str(phantom_dir / tp["series"]["portal-venous"]["folder"]),
                     "liver_mask": str(phantom_dir / tp["label_map"]),
                     "liver_label": "10;15;16;17", "tumor_label": "15;16;17"})
    rows.append({"id": "missing", "command": "inspect", "path": str(phantom_dir / "nothing-here")})
    rows.append({"id": "bad-mask", "command": "burden", "path": str(study),
                 "liver_mask": str(phantom_dir / "ground_truth.json"), "liver_label": "1"})
    path = tmp_path_factory.mktemp("batch") / "manifest.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_batch_results_are_those_of_each_command_alone_and_it_resumes(manifest, tmp_path, capfd):
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "-o", str(out), "--workers", "2", "--parquet"]) == 0
    items = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    burden = pd.read_csv(out / "burden.csv")
    for row in items[items["command"] == "burden"].itertuples():
        if row.id == "bad-mask":
            continue
        alone = _alone(["burden", "--image", row.path, "--liver-mask", row.liver_mask,
                        "--liver-label", "10", "--liver-label", "15", "--liver-label", "16",
                        "--liver-label", "17", "--tumor-label", "15", "--tumor-label", "16",
                        "--tumor-label", "17", "--json"])
        got = burden[burden["id"] == row.id].iloc[0]
        assert got["htb_pct"] == pytest.approx(alone["htb_pct"], abs=1e-4)
        assert got["liver_volume_ml"] == pytest.approx(alone["liver_volume_ml"], abs=1e-4)
        assert got["category"] == alone["category"]
    inspect = pd.read_csv(out / "inspect.csv")
    for row in items[(items["command"] == "inspect") & (items["id"] != "missing")].itertuples():
        alone = _alone(["inspect", row.path, "--json"])
        uids = sorted(s["series_instance_uid"] for st in alone["studies"] for s in st["series"])
        assert sorted(inspect[inspect["id"] == row.id]["series_instance_uid"]) == uids
    errors = pd.read_csv(out / "errors.csv")
    assert sorted(errors["id"]) == ["bad-mask", "missing"]
    assert errors.set_index("id").loc["missing", "line"] == len(items)  # its manifest line
    assert (out / "burden.parquet").is_file()
    capfd.readouterr()
    # a second run: the 6 items done are skipped, the 2 failures are tried again
    assert main(["batch", str(manifest), "-o", str(out), "--workers", "2"]) == 0
    assert "6 done before, 2 to run" in capfd.readouterr().err
    assert pd.read_csv(out / "burden.csv").equals(burden)


def test_batch_assess_over_partitions_writes_what_assess_writes(cohort_dir, tmp_path):
    src = cohort_dir / "measurements.csv"
    out = tmp_path / "batch"
    assert main(["batch", "-o", str(out), "--assess", str(src), "--workers", "2"]) == 0
    assert main(["assess", str(src), "-o", str(tmp_path / "r.csv"), "--bor",
                 str(tmp_path / "b.csv")]) == 0
    assert (out / "responses.csv").read_bytes() == (tmp_path / "r.csv").read_bytes()
    assert (out / "bor.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


@pytest.mark.parametrize("text,message", [
    ("id,command\na,inspect\n", "missing column(s) path"),
    ("id,command,path\na,inspect,/x\na,inspect,/y\n", "id 'a' already on line 2"),
    ("id,command,path\na,segment,/x\n", "command 'segment'"),
    ("id,command,path\na,burden,/x\n", "burden needs liver_mask"),
])
def test_a_bad_manifest_is_refused_before_anything_runs(tmp_path, capfd, text, message):
    path = tmp_path / "m.csv"
    path.write_text(text)
    assert main(["batch", str(path), "-o", str(tmp_path / "out")]) == 2
    assert message in capfd.readouterr().err
    assert not (tmp_path / "out").exists()
