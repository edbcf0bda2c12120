"""``response-tool batch MANIFEST -o DIR [--assess MEASUREMENTS.csv] [--scheduler ADDRESS]
[--workers N] [--parquet]``: cohort jobs on Dask (docs/batch.md).

Every row of the manifest (CSV or Parquet) is one item: ``inspect`` of a study folder, or the
volumetric ``burden`` of an image with its masks, run exactly as the command alone would run it,
on a dask.distributed cluster (a LocalCluster of ``--workers`` processes by default, or the one at
``--scheduler``). An item that fails becomes a row of ``errors.csv`` (its manifest line and the
command's one-line message), never a crash of the batch. Each finished item is saved at once in
``DIR/items/`` (one small JSON file, written whole), so a batch interrupted or re-run skips what is
done and retries what failed. ``--assess`` assesses a measurements CSV on the same cluster over
partitions of whole patients (:func:`response_tool.assessment.patient_partitions`): validated
whole first, so every error names its line in the source file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

#: Manifest columns: required, then optional.
REQUIRED = ("id", "command", "path")
OPTIONAL = ("liver_mask", "tumor_mask", "liver_label", "tumor_label", "scheme")
COMMANDS = ("inspect", "burden")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "batch", help="inspect / burden / assess over a cohort manifest on Dask",
        description="Run inspect (a study folder) or volumetric burden (an image and its masks) for "
                    "every row of MANIFEST (CSV or Parquet: id, command, path, liver_mask, "
                    "tumor_mask, liver_label, tumor_label, scheme) on a dask.distributed cluster; "
                    "failures go to DIR/errors.csv; a re-run skips the items done (docs/batch.md).")
    p.add_argument("manifest", nargs="?", help="manifest CSV or Parquet (optional with --assess)")
    p.add_argument("-o", "--output", required=True, help="output folder (created; resumable)")
    p.add_argument("--assess", metavar="MEASUREMENTS", help="also assess this measurements CSV "
                   "over partitions of whole patients (writes responses.csv and bor.csv)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler (default: a "
                                       "LocalCluster on this machine)")
    p.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes "
                                                          "(default 2)")
    p.add_argument("--parquet", action="store_true", help="write the tables as Parquet too")
    p.set_defaults(func=run)


def _item_name(item_id: str) -> str:
    """A file name for an id (any text): readable prefix + hash, so ids never collide."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in item_id)[:60]
    return f"{safe}-{hashlib.sha1(item_id.encode()).hexdigest()[:10]}.json"


def read_manifest(path: str) -> list[dict[str, Any]]:
    """The manifest's items (with their line), or one BatchInputError naming every bad line."""
    import pandas as pd

    from response_tool.domain.errors import ResponseToolError

    source = Path(path)
    try:
        frame = (pd.read_parquet(source) if source.suffix.lower() in (".parquet", ".pq")
                 else pd.read_csv(source, dtype=str, keep_default_na=False))
    except (OSError, ValueError) as exc:
        raise ResponseToolError(f"{path}: cannot read the manifest ({exc}); give a CSV or Parquet "
                                f"file with columns {', '.join(REQUIRED)}") from exc
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ResponseToolError(f"{path}: missing column(s) {', '.join(missing)}; the manifest "
                                f"needs {', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)})")
    frame = frame.astype(str).apply(lambda c: c.str.strip()).replace({"nan": "", "None": ""})
    problems, items, seen = [], [], {}
    for i, row in enumerate(frame.to_dict("records")):
        line = i + 2
        if not row["id"]:
            problems.append(f"line {line}: empty id")
        elif row["id"] in seen:
            problems.append(f"line {line}: id {row['id']!r} already on line {seen[row['id']]}")
        seen.setdefault(row["id"], line)
        if row["command"] not in COMMANDS:
            problems.append(f"line {line}: command {row['command']!r}: use {' or '.join(COMMANDS)}")
        if row["command"] == "burden" and not row.get("liver_mask"):
            problems.append(f"line {line}: burden needs liver_mask")
        if not row["path"]:
            problems.append(f"line {line}: empty path")
        items.append({**{c: row.get(c, "") for c in (*REQUIRED, *OPTIONAL)}, "line": line})
    if problems:
        shown = "; ".join(problems[:10]) + (f"; … and {len(problems) - 10} more"
                                             if len(problems) > 10 else "")
        raise ResponseToolError(f"{path}: {len(problems)} problem(s) in the manifest; nothing was "
                                f"run: {shown}")
    return items


def _labels(text: str) -> list[int] | None:
    return [int(v) for v in text.replace(",", ";").split(";") if v.strip()] if text else None


def run_item(item: dict[str, Any]) -> dict[str, Any]:
    """One manifest item, as its command alone would run it: ``{"ok", "result"|"error"}``."""
    from response_tool.domain.errors import ResponseToolError

    try:
        if item["command"] == "inspect":
            from response_tool.commands.inspect import scan_dict
            from response_tool.io import scan_dicom

            result = scan_dict(scan_dicom(item["path"]))
        else:
            from response_tool.commands.burden import compute

            args = argparse.Namespace(
                image=item["path"], liver_mask=item["liver_mask"],
                tumor_mask=item.get("tumor_mask") or None,
                liver_label=_labels(item.get("liver_label", "")),
                tumor_label=_labels(item.get("tumor_label", "")),
                scheme=item.get("scheme") or "liu2022", method="volumetric", slices=5, json=True)
            result = compute(args)[0]
        return {"ok": True, "result": result}
    except (ResponseToolError, OSError) as exc:
        return {"ok": False, "error": str(exc)}
    except Exception as exc:  # a bug: kept as the item's error, the batch goes on
        return {"ok": False, "error": f"internal error ({type(exc).__name__}: {exc})"}


def _client(args: argparse.Namespace) -> Any:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        from response_tool.domain.errors import ResponseToolError

        raise ResponseToolError("batch needs dask.distributed: pip install 'dask[distributed]' "
                                "(or response-tool[batch])") from exc
    if args.scheduler:
        return Client(args.scheduler, timeout="20s")
    import logging

    cluster = LocalCluster(n_workers=max(1, args.workers), threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)
    return Client(cluster)


def run(args: argparse.Namespace) -> int:
    from response_tool.domain.errors import ResponseToolError

    if not args.manifest and not args.assess:
        raise ResponseToolError("batch: give a MANIFEST, --assess MEASUREMENTS, or both")
    items = read_manifest(args.manifest) if args.manifest else []
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise ResponseToolError(f"{out} is a file; give a folder for the batch's outputs")
    (out / "items").mkdir(parents=True, exist_ok=True)
    done = {}
    for item in items:
        saved = out / "items" / _item_name(item["id"])
        if saved.is_file():
            record = json.loads(saved.read_text(encoding="utf-8"))
            if record.get("ok") and record.get("item", {}).get("path") == item["path"]:
                done[item["id"]] = record
    todo = [i for i in items if i["id"] not in done]
    print(f"batch: {len(items)} item(s), {len(done)} done before, {len(todo)} to run",
          file=sys.stderr, flush=True)
    with _client(args) as client:
        if todo:
            _run_items(client, todo, out, done)
        if args.assess:
            _assess(client, args, out)
    _write_tables(items, done, out, args.parquet)
    failed = sum(not r["ok"] for r in done.values())
    print(f"batch: {len(items) - failed} item(s) done, {failed} failed (see {out / 'errors.csv'})",
          file=sys.stderr)
    return 0


def _run_items(client: Any, todo: list[dict[str, Any]], out: Path, done: dict[str, Any]) -> None:
    from distributed import as_completed
    from tqdm import tqdm

    from response_tool.io._atomic import atomic_write

    futures = {client.submit(run_item, item, key=f"item-{_item_name(item['id'])}", pure=False): item
               for item in todo}
    with tqdm(total=len(todo), desc="batch", unit="item", file=sys.stderr) as bar:
        for future in as_completed(futures):
            item = futures[future]
            try:
                record = future.result()
            except Exception as exc:  # the worker died (memory, killed): the item's error
                record = {"ok": False, "error": f"worker failed ({type(exc).__name__}: {exc})"}
            record["item"] = item
            done[item["id"]] = record
            with atomic_write(out / "items" / _item_name(item["id"]), encoding="utf-8") as fh:
                fh.write(json.dumps(record, default=str))
            bar.update(1)


def _write_tables(items: list[dict[str, Any]], done: dict[str, Any], out: Path,
                  parquet: bool) -> None:
    import pandas as pd

    from response_tool.io.csv_out import write_tables

    inspect_rows, burden_rows, errors = [], [], []
    for item in items:
        record = done.get(item["id"])
        if record is None:
            continue
        if not record["ok"]:
            errors.append({"id": item["id"], "line": item["line"], "command": item["command"],
                           "path": item["path"], "message": record["error"]})
        elif item["command"] == "inspect":
            for study in record["result"].get("studies", []):
                for series in study.get("series", []):
                    inspect_rows.append({
                        "id": item["id"], "patient_id": study.get("patient_id"),
                        "study_instance_uid": study.get("study_instance_uid"),
                        "study_date": study.get("study_date"),
                        **{k: (" | ".join(map(str, v)) if isinstance(v, list) else v)
                           for k, v in series.items()}})
        else:
            r = record["result"]
            burden_rows.append({"id": item["id"], "image": item["path"], **{
                k: r.get(k) for k in ("liver_volume_ml", "tumor_volume_ml", "htb_pct",
                                      "category", "method", "scheme")},
                "notes": " | ".join(r.get("notes", []))})
    tables = [(pd.DataFrame(rows, columns=columns), out / name) for rows, columns, name in (
        (inspect_rows, list(dict.fromkeys(k for r in inspect_rows for k in r)) or ["id"],
         "inspect.csv"),
        (burden_rows, ["id", "image", "liver_volume_ml", "tumor_volume_ml", "htb_pct",
                       "category", "method", "scheme", "notes"], "burden.csv"),
        (errors, ["id", "line", "command", "path", "message"], "errors.csv"))]
    write_tables(tables)
    if parquet:
        for frame, path in tables:
            frame.to_parquet(path.with_suffix(".parquet"), index=False)


def _assess(client: Any, args: argparse.Namespace, out: Path) -> None:
    from response_tool.assessment import assess

    n = max(2, len(client.scheduler_info().get("workers", {})) or 2)
    print(f"batch: assess {args.assess} over {n} partition(s) of whole patients", file=sys.stderr,
          flush=True)
    result = assess(args.assess, jobs=n, executor=client.get_executor())
    result.to_csv(out / "responses.csv", out / "bor.csv", out / "responses.warnings.csv")
    if args.parquet:
        result.timepoints.to_parquet(out / "responses.parquet", index=False)
        result.best_response.to_parquet(out / "bor.parquet", index=False)
