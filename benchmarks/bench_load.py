"""Benchmark: loading 512×512 CT series of 300 and 600 slices, uncompressed (explicit and
implicit VR little endian) and compressed (JPEG 2000 lossless, RLE lossless).

Compares, side by side in one run (median of N warm-cache runs each):

* ``floor``      — read every file's bytes into one preallocated buffer (no parsing at all);
* ``ours``       — ``scan_dicom`` (headers) + ``load_series`` (pixels straight into a sorted
                   int16 volume), i.e. the whole job from a folder;
* ``ours-pixels``— ``load_series`` alone, headers already scanned (what the viewer pays when the
                   reader switches series);
* ``pydicom``    — naive: dcmread every file, sort by position, ``np.stack`` of ``pixel_array``;
* ``ours-1thread``— ``ours`` with one reading thread (what the thread pool buys);
* ``sitk``       — SimpleITK ``ImageSeriesReader`` (GDCM).

For compressed series the floor is the decoder's own cost spread over the cores:
``decode-floor`` = header scan + (median single-slice decode) × slices / cores, with pydicom's
decoder (``ds.pixel_array``, as defined in round 1) and, as ``decode-floor-imagecodecs``, with the
decoder ``load_series`` uses (imagecodecs, on the frame alone). Ratios are to the former.

Peak memory is measured for each method in a fresh subprocess (``ru_maxrss`` after the load minus
before it) and reported against the volume's size.

Run: ``.venv/bin/python benchmarks/bench_load.py [--runs 5] [--sizes 300 600]``; results go to
``benchmarks/results/load.json`` and the table in ``benchmarks/README.md`` is written from it.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
RESULTS = HERE / "results" / "load.json"
METHODS = ("floor", "ours", "ours-1thread", "ours-pixels", "pydicom", "sitk")
KINDS = ("explicit", "implicit", "j2k", "rle")


def make_series(n: int, kind: str = "explicit") -> Path:
    """Write an n-slice 512×512 CT series of ``kind`` (once; reused across runs)."""
    import datetime as dt

    import pydicom
    from pydicom.uid import ImplicitVRLittleEndian, JPEG2000Lossless, RLELossless

    from response_tool.phantom.writer import SeriesHeader, uid, write_series

    folder = DATA / (f"series_{n}" if kind == "explicit" else f"series_{n}_{kind}")
    if folder.is_dir() and len(list(folder.iterdir())) == n:
        return folder
    if kind != "explicit":
        source = make_series(n, "explicit")
        folder.mkdir(parents=True, exist_ok=True)
        for f in sorted(source.iterdir()):
            ds = pydicom.dcmread(f)
            if kind == "implicit":
                ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
                ds.save_as(folder / f.name, implicit_vr=True, little_endian=True,
                           enforce_file_format=True)
            else:
                ds.compress(JPEG2000Lossless if kind == "j2k" else RLELossless)
                ds.save_as(folder / f.name, enforce_file_format=True)
        return folder
    rng = np.random.default_rng(n)
    # CT-like: smooth anatomy plus noise, so the compressed sizes are those of real CT
    yy, xx = np.mgrid[-256:256, -256:256]
    body = np.where(xx**2 / 200**2 + yy**2 / 150**2 < 1, 40, -1000).astype(np.int16)
    hu = (body[None] + rng.normal(0, 12, size=(n, 512, 512))).astype(np.int16)
    header = SeriesHeader(uid(n, "bench-study"), uid(n, "bench-series"), uid(n, "frame"),
                          dt.date(2026, 1, 1), "1", "BENCH", 2, f"bench {n}", "bench",
                          "response-tool", "bench", dt.time(9), False)
    write_series(folder, header, hu, n, 0.0, -200.0, cranial_first=True)
    return folder


def decode_floor(folder: Path, decoder: str = "pydicom") -> float:
    """Header scan + the decoder's single-slice time × slices / cores (seconds).

    ``decoder="pydicom"``: ``ds.pixel_array`` of a read data set (the pylibjpeg plugins; the
    definition of round 1); ``"imagecodecs"``: the decoder ``load_series`` now uses, on the
    frame alone (the fragments already in memory)."""
    import os

    import pydicom

    from response_tool.io import _decode, scan_dicom

    t0 = time.perf_counter()
    scan_dicom(folder)
    scan = time.perf_counter() - t0
    files = sorted(folder.iterdir())
    one = []
    for f in files[:7]:
        if decoder == "pydicom":
            ds = pydicom.dcmread(f)
            t0 = time.perf_counter()
            _ = ds.pixel_array
        else:
            data = f.read_bytes()
            w = _decode.walk(data, None, _decode._WANTED, _decode._ACCEPT)
            frame = _decode._frame(data, w.pixel_offset)
            ts = w.transfer_syntax_uid
            target = np.empty((512, 512), np.uint16)
            t0 = time.perf_counter()
            _decode._CODECS[ts](frame, target, None, False)  # type: ignore[arg-type]
        one.append(time.perf_counter() - t0)
    return scan + statistics.median(one) * len(files) / (os.cpu_count() or 1)


def _floor(folder: Path) -> np.ndarray:
    files = sorted(folder.iterdir())
    sizes = [f.stat().st_size for f in files]
    buf = np.empty(sum(sizes), dtype=np.uint8)
    pos = 0
    for f, size in zip(files, sizes, strict=True):
        with open(f, "rb", buffering=0) as fh:
            fh.readinto(memoryview(buf[pos:pos + size]))
        pos += size
    return buf


def _ours(folder: Path) -> np.ndarray:
    from response_tool.io import load_series, scan_dicom

    return load_series(scan_dicom(folder).series[0]).array


def _pydicom(folder: Path) -> np.ndarray:
    import pydicom

    datasets = [pydicom.dcmread(f) for f in folder.iterdir()]
    datasets.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    slope, intercept = float(datasets[0].RescaleSlope), float(datasets[0].RescaleIntercept)
    return (np.stack([d.pixel_array for d in datasets]) * slope + intercept).astype(np.int16)


def _sitk(folder: Path) -> np.ndarray:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return sitk.GetArrayFromImage(reader.Execute())


def _ours_1thread(folder: Path) -> np.ndarray:
    from response_tool.io import dicom_load, load_series, scan_dicom

    saved, dicom_load.READ_THREADS = dicom_load.READ_THREADS, 1
    try:
        return load_series(scan_dicom(folder).series[0]).array
    finally:
        dicom_load.READ_THREADS = saved


def run_method(method: str, folder: Path) -> tuple[float, int]:
    """(seconds, bytes of the result) of one run."""
    if method == "ours-pixels":
        from response_tool.io import load_series, scan_dicom

        series = scan_dicom(folder).series[0]
        t0 = time.perf_counter()
        out = load_series(series).array
        return time.perf_counter() - t0, out.nbytes
    fn = {"floor": _floor, "ours": _ours, "ours-1thread": _ours_1thread, "pydicom": _pydicom,
          "sitk": _sitk}[method]
    t0 = time.perf_counter()
    out = fn(folder)
    return time.perf_counter() - t0, out.nbytes


def _high_water_mark_bytes() -> int:
    """Peak RSS of this process image (VmHWM). Unlike ``ru_maxrss``, it is not inherited from the
    parent across ``exec``, so a child measures only itself."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _peak_child(method: str, folder: Path) -> None:
    """Child process: import everything, then report the peak-RSS increase of one load (bytes)."""
    import pydicom  # noqa: F401
    import SimpleITK  # noqa: F401

    import response_tool.io  # noqa: F401

    before = _high_water_mark_bytes()
    _, nbytes = run_method(method, folder)
    after = _high_water_mark_bytes()
    print(json.dumps({"peak_increase_bytes": after - before, "result_bytes": nbytes}))


def peak_memory(method: str, folder: Path) -> dict[str, int]:
    out = subprocess.run([sys.executable, __file__, "--peak-child", method, str(folder)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 600])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--merge", action="store_true",
                        help="keep the other series of results/load.json (measured in another run)")
    parser.add_argument("--peak-child", nargs=2, metavar=("METHOD", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_child:
        _peak_child(args.peak_child[0], Path(args.peak_child[1]))
        return 0
    import os

    results = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                           "platform": platform.platform()},
               "runs": args.runs, "series": {}}
    if args.merge and RESULTS.is_file():
        results["series"] = json.loads(RESULTS.read_text()).get("series", {})
    for n, kind in ((n, k) for n in args.sizes for k in args.kinds):
        folder = make_series(n, kind)
        for method in METHODS:  # warm the page cache and imports
            run_method(method, folder)
        times: dict[str, list[float]] = {m: [] for m in METHODS}
        for _ in range(args.runs):  # interleaved, so drift hits every method alike
            for method in METHODS:
                times[method].append(run_method(method, folder)[0])
        floor = statistics.median(times["floor"])
        entry: dict[str, object] = {}
        if kind in ("j2k", "rle"):
            floors = [decode_floor(folder) for _ in range(args.runs)]
            entry["decode-floor"] = {"median_s": round(statistics.median(floors), 4)}
            own = [decode_floor(folder, "imagecodecs") for _ in range(args.runs)]
            entry["decode-floor-imagecodecs"] = {"median_s": round(statistics.median(own), 4)}
            floor = statistics.median(floors)
            print(f"{n:>4} {kind:<8} decode floor {floor:.3f} s (pydicom's decoder), "
                  f"{statistics.median(own):.3f} s (imagecodecs)", flush=True)
        for method in METHODS:
            med = statistics.median(times[method])
            mem = peak_memory(method, folder)
            entry[method] = {
                "median_s": round(med, 4), "ratio_to_floor": round(med / floor, 2),
                "runs_s": [round(t, 4) for t in times[method]],
                "peak_increase_mb": round(mem["peak_increase_bytes"] / 2**20, 1),
                "result_mb": round(mem["result_bytes"] / 2**20, 1),
            }
            print(f"{n:>4} {kind:<8} {method:<12} median {med:7.3f} s  ×{med / floor:5.2f} floor  "
                  f"peak +{entry[method]['peak_increase_mb']:7.1f} MB "
                  f"(volume {entry[method]['result_mb']:.1f} MB)", flush=True)
        entry["runs"] = args.runs
        entry["load_average_1min"] = round(os.getloadavg()[0], 2)
        results["series"][str(n) if kind == "explicit" else f"{n}-{kind}"] = entry
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
