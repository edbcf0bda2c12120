"""Benchmark: click-to-measure on real patients' lesions with an expert reference (issue 22).

Every real lesion of ``../shared/data/real-lesions`` (and of a manifest of more real lesions kept
outside the repository, ``--extra PATH/manifest.json``: tests/real_lesions.py reads it), clicked
five times on the slice of its reference long axis: at its centre and 3 mm off it along +x, -x,
+y and -y (a reader's click is rarely at the centre). For each click, ``propose`` is timed and
its long and short axes compared with the reference diameters of the expert mask (largest Feret
over the axial slices, the shared README's convention).

Reported per group of lesions and overall (``benchmarks/results/measure_real.json``): share of
clicks proposed; median and 90th-percentile |error| of the long and short axis (mm, proposed
clicks); share of ALL clicks whose long axis is within 20 % and within 2 mm; ``unwarned_over_50``
(proposals more than 50 % off with no warning: the issue's "never" target); confidence of the
proposals within / not within 20 %; time per click (median, 90th percentile, max). The
phantom's lesions (ground truth exact) are measured beside them the same way, and one click is
timed on a real-size CT (the lung2 case resampled to 512 x 512 x 300, 1 mm slices), and the
follow-up registration on it (issue 22, item 4).

Run: ``.venv/bin/python benchmarks/bench_measure_real.py [--extra MANIFEST] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "measure_real.json"
sys.path.insert(0, str(HERE.parent / "tests"))

from real_lesions import RealLesion, extra_lesions, shared_lesions  # noqa: E402

from response_tool.domain.errors import ResponseToolError  # noqa: E402
from response_tool.reading.measure import propose  # noqa: E402

#: the issue's goals
GOALS = {"proposed": 0.95, "within_20pct": 0.85, "median_long_error_mm": 2.0,
         "mr_within_20pct": 0.75, "seconds_per_click_512x512x300": 0.5}


def group_of(lesion: RealLesion) -> str:
    """Lesions grouped by source and kind (the groups of the results table)."""
    lid = lesion.lesion_id
    if lid.startswith("lidc"):
        return "lung nodules (LIDC-IDRI)"
    if lid.startswith("ircad07"):
        return "retroperitoneal mass (3D-IRCADb)"
    if lid.startswith("ircad"):
        return "liver tumours (3D-IRCADb)"
    if lid.startswith("sts"):
        return f"sarcoma {lesion.modality} (TCIA STS)"
    if lid.startswith("nsclc"):
        return "lung cancer (TCIA NSCLC-Radiomics)"
    return f"shared real lesions {lesion.modality}"


def click_rows(lesions: list[RealLesion]) -> list[dict]:
    rows = []
    for lesion in lesions:
        for name, click in lesion.clicks().items():
            t0 = time.perf_counter()
            try:
                p = propose(lesion.volume, click)
                quality = getattr(p, "quality", {})  # (an older core's proposal has none)
                got = dict(long_mm=p.long_mm, short_mm=p.short_mm, warnings=list(p.warnings),
                           confidence=getattr(p, "confidence", None),
                           volume_mm3=getattr(p, "volume_mm3", None),
                           quality={k: (None if v != v else v) for k, v in quality.items()})
            except ResponseToolError as exc:
                got = dict(long_mm=None, short_mm=None, warnings=[str(exc)], refused=True,
                           confidence=None, volume_mm3=None)
            except Exception as exc:  # noqa: BLE001 - an older core crashed: counted, not raised
                got = dict(long_mm=None, short_mm=None, warnings=[f"crashed: {exc!r}"[:200]],
                           crashed=True, confidence=None, volume_mm3=None)
            seconds = time.perf_counter() - t0
            ref_volume = float(lesion.mask.sum() * np.prod(lesion.volume.spacing_zyx_mm))
            rows.append(dict(lesion=lesion.lesion_id, group=group_of(lesion),
                             modality=lesion.modality, click=name,
                             reference_long_mm=round(lesion.long_mm, 2),
                             reference_short_mm=round(lesion.short_mm, 2),
                             reference_volume_mm3=round(ref_volume, 1), seconds=round(seconds, 4),
                             **got))
    return rows


def summary(rows: list[dict]) -> dict:
    n = len(rows)
    done = [r for r in rows if r["long_mm"] is not None]
    err = [abs(r["long_mm"] - r["reference_long_mm"]) for r in done]
    rel = [e / r["reference_long_mm"] for e, r in zip(err, done, strict=True)]
    serr = [abs(r["short_mm"] - r["reference_short_mm"]) for r in done]
    within = [x <= 0.2 for x in rel]
    q = (lambda v, p: round(float(np.percentile(v, p)), 2) if v else None)  # noqa: E731
    return {
        "clicks": n, "lesions": len({r["lesion"] for r in rows}),
        "proposed": round(len(done) / n, 3) if n else None,
        "long_error_mm_median": q(err, 50), "long_error_mm_p90": q(err, 90),
        "short_error_mm_median": q(serr, 50), "short_error_mm_p90": q(serr, 90),
        "within_20pct": round(sum(within) / n, 3) if n else None,
        "within_2mm": round(sum(e <= 2.0 for e in err) / n, 3) if n else None,
        "volume_error_pct_median": q([abs(r["volume_mm3"] / r["reference_volume_mm3"] - 1) * 100
                                      for r in done if r.get("volume_mm3")
                                      and r.get("reference_volume_mm3")], 50),
        "unwarned_over_50": sum(1 for r, x in zip(done, rel, strict=True)
                                if x > 0.5 and not r["warnings"]),
        "high_confidence_within_20pct": _share([w for w, r in zip(within, done, strict=True)
                                                if r["confidence"] == "high"]),
        "low_confidence_within_20pct": _share([w for w, r in zip(within, done, strict=True)
                                               if r["confidence"] == "low"]),
        "seconds_median": round(statistics.median(r["seconds"] for r in rows), 3) if n else None,
        "seconds_p90": q([r["seconds"] for r in rows], 90),
        "seconds_max": round(max(r["seconds"] for r in rows), 3) if n else None,
    }


def _share(flags: list[bool]) -> str | None:
    return f"{sum(flags)}/{len(flags)}" if flags else None


def phantom_rows() -> list[dict]:
    """The phantom's lesions, clicked the same way (centre and 3 mm off), against its truth."""
    from response_tool.io import scan_dicom
    from response_tool.io.dicom_load import load_series
    from response_tool.phantom import generate_phantom

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generate_phantom(out, seed=0)
        truth = json.loads((out / "ground_truth.json").read_text())
        for k, tp in enumerate(truth["timepoints"]):
            pv = load_series(scan_dicom(out / tp["series"]["portal-venous"]["folder"]).series[0])
            for les in truth["lesions"]:
                t = les["timepoints"][k]
                if not t.get("present") or t.get("long_axis_mm") is None:
                    continue
                centre = np.asarray(t["center_xyz_mm"], float)[::-1]
                for name, d in (("centre", (0, 0)), ("+x", (0, 3)), ("-x", (0, -3)),
                                ("+y", (3, 0)), ("-y", (-3, 0))):
                    click = centre + np.array([0.0, *d])
                    t0 = time.perf_counter()
                    try:
                        p = propose(pv, click)
                        got = dict(long_mm=p.long_mm, short_mm=p.short_mm,
                                   warnings=list(p.warnings), confidence=p.confidence)
                    except ResponseToolError as exc:
                        got = dict(long_mm=None, short_mm=None, warnings=[str(exc)],
                                   confidence=None)
                    rows.append(dict(lesion=f"{les['lesion_id']}@{k}", group="phantom",
                                     modality="CT", click=name,
                                     reference_long_mm=t["long_axis_mm"],
                                     reference_short_mm=t["short_axis_mm"],
                                     seconds=round(time.perf_counter() - t0, 4), **got))
    return rows


def real_size_timing(lesions: list[RealLesion], runs: int) -> dict:
    """Seconds per click on a real-size CT (``_real_size``), clicked at its lesion's centre
    (medians of ``runs``, after a first click that imports what it needs)."""
    lung2, big = _real_size(lesions)
    propose(big, lung2.centre_click_zyx_mm())
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        propose(big, lung2.centre_click_zyx_mm())
        times.append(time.perf_counter() - t0)
    return {"shape_zyx": list(big.shape_zyx),
            "spacing_zyx_mm": [round(s, 3) for s in big.spacing_zyx_mm], "runs": runs,
            "seconds_median": round(statistics.median(times), 3),
            "seconds_max": round(max(times), 3)}


def _real_size(lesions: list[RealLesion]):
    """lung2 (a real 512 x 512 chest CT, 61 slices of 5 mm) resampled to 300 slices of 1 mm."""
    import SimpleITK as sitk

    from response_tool.io.volume import Volume

    lung2 = next(x for x in lesions if x.lesion_id == "lung2")
    image = lung2.volume.to_sitk()
    size = list(image.GetSize())
    spacing = list(image.GetSpacing())
    spacing[2] = size[2] * spacing[2] / 300.0
    resampled = sitk.Resample(image, [size[0], size[1], 300], sitk.Transform(), sitk.sitkLinear,
                              image.GetOrigin(), spacing, image.GetDirection(), -1024.0,
                              sitk.sitkInt16)
    return lung2, Volume.from_sitk(resampled)


def registration_timing(lesions: list[RealLesion], runs: int) -> dict:
    """The follow-up search (issue 22, item 4) on a real-size CT: the 512 x 512 x 300 volume
    registered to itself moved by a known rotation (3 degrees) and shift (12, -8, 15 mm), as the
    panel does in the background; seconds (median of ``runs``) and the error at the lesion."""
    from known_motion import moved

    from response_tool.reading.propagation import register_followup

    lung2, big = _real_size(lesions)
    centre = tuple(float(v) for v in big.index_zyx_to_xyz_mm(np.asarray(big.shape_zyx) / 2))
    followup, truth = moved(big, 3.0, (12.0, -8.0, 15.0), centre, fill=-1024.0)
    times, errors = [], []
    point = lung2.centre_click_zyx_mm()
    for _ in range(runs):
        t0 = time.perf_counter()
        reg = register_followup(big, followup)
        times.append(time.perf_counter() - t0)
        errors.append(float(np.linalg.norm(reg.to_followup_mm(point) - truth.to_followup_mm(point))))
    return {"shape_zyx": list(big.shape_zyx), "runs": runs,
            "seconds_median": round(statistics.median(times), 2),
            "seconds_max": round(max(times), 2),
            "lesion_error_mm_max": round(max(errors), 2)}


def _before(rev: str, extra: str | None) -> dict:
    """The same clicks with the click-to-measure of revision ``rev``, in a subprocess that
    imports that revision's core (this file and tests/real_lesions.py load the lesions)."""
    import subprocess

    from _worktrees import tree_env, worktree

    tree = worktree(rev)
    out = tree / "measure_real_before.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--clicks-only", "--out", str(out),
           *(["--extra", extra] if extra else [])]
    subprocess.run(cmd, check=True, env=tree_env(tree), cwd=tree)
    rows = json.loads(out.read_text())
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r)
    return {"revision": rev, **summary(rows),
            "crashed": sum(1 for r in rows if r.get("crashed")),
            "mr": summary([r for r in rows if r["modality"] == "MR"]),
            "groups": {g: summary(v) for g, v in sorted(groups.items())}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extra", help="manifest.json of more real lesions (outside the repository)")
    ap.add_argument("--quick", action="store_true", help="shared lesions only, no phantom")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--compare-with", metavar="REV",
                    help="also click every lesion with the click-to-measure of git revision REV "
                         "(its worktree under benchmarks/_data), reported as 'before'")
    ap.add_argument("--clicks-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    lesions = list(shared_lesions()) + (list(extra_lesions(args.extra)) if args.extra else [])
    rows = click_rows(lesions)
    if args.clicks_only:  # the 'before' run, in another revision's environment
        Path(args.out).write_text(json.dumps(rows) + "\n")
        return 0
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r)
    result = {
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "goals": GOALS,
        "extra_manifest": args.extra,
        "all": summary(rows),
        "mr": summary([r for r in rows if r["modality"] == "MR"]),
        "shared_only": summary([r for r in rows if r["group"].startswith("shared")]),
        "groups": {g: summary(v) for g, v in sorted(groups.items())},
        "real_size": real_size_timing(lesions, 3 if args.quick else 7),
    }
    if not args.quick:
        result["registration_real_size"] = registration_timing(lesions, 3)
    if args.compare_with:
        result["before"] = _before(args.compare_with, args.extra)
    if not args.quick:
        result["phantom"] = summary(phantom_rows())
    result["clicks"] = rows
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    for name in ("all", "mr", "shared_only"):
        print(name, json.dumps(result[name]))
    for g, s in result["groups"].items():
        print(f"  {g}: {json.dumps(s)}")
    if "before" in result:
        print("before", json.dumps({k: v for k, v in result["before"].items() if k != "groups"}))
    if "phantom" in result:
        print("phantom", json.dumps(result["phantom"]))
    print("real size", json.dumps(result["real_size"]))
    if "registration_real_size" in result:
        print("registration", json.dumps(result["registration_real_size"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
