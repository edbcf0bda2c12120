"""``response-tool burden --image PATH --liver-mask MASK … [--json]``: hepatic tumour burden.

Before any number is given, the masks' coverage is measured (docs/burden.md, "Coverage"): liver or
tumour outside the image, a mask cut at the edge of its own grid, tumour away from the liver. Where
the HTB would be wrong the command refuses with the numbers; where it is only imprecise the result
says so in its notes, with the image's own warnings (missing slices resampled, tilt, …).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from response_tool import burden
from response_tool.domain.errors import BurdenInputError

from ._options import add_follow_symlinks


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "burden", help="hepatic tumour burden (HTB %% and category) from liver and tumour masks",
        description="HTB = tumour volume / liver volume (tumour included) x 100, from masks aligned "
                    "onto the image by physical coordinates (NIfTI, NRRD or DICOM SEG). The liver is "
                    "the union of the liver and tumour masks. Prints liver_volume_ml, "
                    "tumor_volume_ml, htb_pct and category, and notes: the image's warnings and "
                    "what the masks' coverage measured (docs/burden.md). Without a tumour mask or "
                    "label: the liver volume only.")
    p.add_argument("--image", required=True, help="the image: a DICOM series folder/file, NIfTI or NRRD")
    p.add_argument("--liver-mask", required=True, help="liver mask or label map")
    p.add_argument("--liver-label", type=int, action="append",
                   help="label value(s) of the liver in --liver-mask (repeat for several; default: "
                        "every non-zero label when the mask has only one)")
    p.add_argument("--tumor-mask", help="tumour mask (default: the --liver-mask file, with --tumor-label)")
    p.add_argument("--tumor-label", type=int, action="append",
                   help="label value(s) of liver tumour (repeat for several; default with --tumor-mask:"
                        " every non-zero label)")
    p.add_argument("--scheme", default="liu2022",
                   help=f"category scheme: {', '.join(burden.SCHEMES)} or custom:E1,E2,... "
                        "(default liu2022)")
    p.add_argument("--method", choices=["volumetric", "semi-quantitative"], default="volumetric",
                   help="volumetric (all slices, default) or semi-quantitative (outlines on "
                        "--slices slices spread over the liver)")
    p.add_argument("--slices", type=int, default=5, help="slices for semi-quantitative (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--seg", metavar="OUT.dcm",
                   help="also write the masks measured as a DICOM SEG (segment 1 'Liver' = liver "
                        "and tumour, 2 'Liver tumour'; they overlap) referencing the image's DICOM "
                        "files (the image must be a DICOM series; volumetric only)")
    p.add_argument("--nifti", metavar="OUT.nii.gz",
                   help="also write the masks measured as a NIfTI label map on the image's grid "
                        "(1 liver, 2 tumour; volumetric only)")
    add_follow_symlinks(p, "a --seg / --nifti")
    p.set_defaults(func=run)


def _values(labels: np.ndarray, wanted: list[int] | None, path: str, what: str, flag: str
            ) -> list[int]:
    present = burden.present_labels(labels)
    if not present:
        raise BurdenInputError(f"{path}: the mask is empty on this image; check the mask")
    if wanted is None:
        if len(present) > 1:
            shown = ", ".join(map(str, present[:20])) + (" …" if len(present) > 20 else "")
            raise BurdenInputError(
                f"{path}: the mask holds labels {shown}; say which is the {what} with {flag} N")
        wanted = present
    missing = [v for v in wanted if v not in present]
    if len(missing) == len(wanted):
        raise BurdenInputError(f"{path}: {what} label(s) {', '.join(map(str, missing))} not in the "
                               f"mask on this image (labels present: {', '.join(map(str, present))})"
                               f"; choose from those")
    if missing:  # e.g. a lesion label that only exists at later time points
        print(f"burden: note: {what} label(s) {', '.join(map(str, missing))} absent from {path}",
              file=sys.stderr)
    return [v for v in wanted if v in present]


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def _outside_image(lm: Any, values: list[int], what: str, image: Any, notes: list[str],
                   coverage: dict[str, Any]) -> None:
    """Refuse a mask with more than 1 % of its liver/tumour outside the image; note less."""
    total, out = lm.volume_ml(values), lm.outside_ml(values)
    coverage[f"{what}_ml_in_mask_file"] = round(total, 4)
    coverage[f"{what}_ml_outside_image"] = round(out, 4)
    if not out:
        return
    share = out / total if total else 0.0
    if share > burden.OUTSIDE_REFUSE_FRACTION:
        raise BurdenInputError(
            f"{lm.path}: {out:.1f} mL ({100 * share:.1f} %) of the mask's {what} lies outside the "
            f"image (of {total:.1f} mL in the mask; mask covers {lm.extent_text}, "
            f"image covers {image.extent_text()}): the HTB would count only the part inside; "
            "give the image the mask was drawn on")
    notes.append(f"{lm.path.name}: {out:.2f} mL ({100 * share:.2f} %) of the {what} lies outside "
                 "the image and is not counted")


def _cut_by_mask_grid(lm: Any, values: list[int], what: str, notes: list[str]) -> None:
    """Refuse a mask whose own grid ends inside the image across the liver; note a smaller cut."""
    for cut in lm.cuts(values):
        if cut.fraction >= burden.CUT_REFUSE_FRACTION:
            raise BurdenInputError(
                f"{lm.path}: the mask's {what} is cut where the mask's grid ends, at {cut.face}, "
                f"inside the image ({cut.area_mm2:.0f} mm² on that face, "
                f"{100 * cut.fraction:.0f} % of its largest cross-section): the mask covers only "
                "part of the image, so the HTB would be of the part covered; export the mask on "
                "the image's whole grid")
        if cut.fraction >= burden.CUT_NOTE_FRACTION:
            notes.append(f"{lm.path.name}: the {what} reaches the edge of the mask's grid at "
                         f"{cut.face} inside the image ({100 * cut.fraction:.0f} % of its largest "
                         "cross-section): the mask may not cover the whole liver")


def _image_faces(liver: np.ndarray, image: Any) -> list[str]:
    """Notes for a liver lying across a face of the image grid (the scan may not cover it all)."""
    notes = []
    for c in burden.edge_contacts(liver):
        idx = np.zeros(3)
        idx[c.axis] = image.shape_zyx[c.axis] - 1 if c.last else 0
        world = image.patient_axis(c.axis)
        at = float(image.index_zyx_to_xyz_mm(idx)[world])
        layer = ("slice" if c.axis == 0 else "row" if c.axis == 1 else "column")
        notes.append(f"the liver reaches the image's {'last' if c.last else 'first'} {layer} "
                     f"({'xyz'[world]} {at:.1f} mm) with {100 * c.fraction:.0f} % of its largest "
                     "cross-section: the image may not cover the whole liver; volumes and HTB are "
                     "of the part imaged")
    return notes


def _tumour_outside_liver(liver: np.ndarray, tumour: np.ndarray, image: Any, path: str,
                          notes: list[str], coverage: dict[str, Any]) -> None:
    away = burden.tumour_outside_liver(liver, tumour)
    voxel_ml = image.voxel_volume_mm3 / 1000.0
    ml = away.voxels * voxel_ml
    coverage["tumour_ml_away_from_liver"] = round(ml, 4)
    if not away.voxels:
        return
    total = int(np.count_nonzero(tumour))
    share = away.voxels / total
    where = ""
    if away.largest_centre_zyx is not None:
        x, y, z = image.index_zyx_to_xyz_mm(away.largest_centre_zyx)
        where = f", the largest around x {x:.0f}, y {y:.0f}, z {z:.0f} mm"
    if share > burden.TUMOUR_OUTSIDE_REFUSE_FRACTION:
        raise BurdenInputError(
            f"{path}: {ml:.1f} mL ({100 * share:.1f} %) of the tumour lies away from the liver, "
            f"not touching it ({away.regions} region(s){where}): not liver tumour (another organ "
            "labelled as tumour?), and the HTB would count it as liver; give liver tumours only "
            "(choose the labels with --tumor-label)")
    notes.append(f"{Path(path).name}: {ml:.3f} mL ({100 * share:.2f} %) of the tumour lies away "
                 f"from the liver ({away.regions} region(s){where}); counted as liver tumour")


def _mask_outputs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """The checked --seg / --nifti paths (before anything is loaded or written)."""
    seg, nifti = getattr(args, "seg", None), getattr(args, "nifti", None)
    if seg is None and nifti is None:
        return None, None
    from response_tool.io.image import is_itk_file
    from response_tool.io.output import Output, check_files

    flag = "--seg" if seg else "--nifti"
    if args.method != "volumetric":
        raise BurdenInputError(f"{flag} writes the masks of a volumetric burden; the "
                               "semi-quantitative estimate samples a few slices of them — drop "
                               f"--method semi-quantitative, or {flag}")
    if seg is not None and is_itk_file(Path(args.image)):
        raise BurdenInputError(f"--seg {seg}: the image {args.image} is not DICOM, and a DICOM SEG "
                               "references the DICOM images it lies on; give the DICOM series as "
                               "--image, or write the masks with --nifti")
    if nifti is not None and not str(nifti).endswith((".nii", ".nii.gz")):
        raise BurdenInputError(f"--nifti {nifti}: a NIfTI file name ends in .nii.gz or .nii")
    outputs = [Output(v, f, e) for v, f, e in ((seg, "--seg", "burden_SEG.dcm"),
                                                (nifti, "--nifti", "burden_masks.nii.gz")) if v]
    inputs = {k: v for k, v in (("--image", args.image), ("--liver-mask", args.liver_mask),
                                ("--tumor-mask", args.tumor_mask)) if v}
    targets = iter(check_files(outputs, inputs, follow_symlinks=args.follow_symlinks))
    return (next(targets) if seg else None), (next(targets) if nifti else None)


def run(args: argparse.Namespace) -> int:
    seg, nifti = _mask_outputs(args)
    out, est, masks = _measure(args)
    if seg is not None or nifti is not None:
        from response_tool.exchange.seg import mask_labels, write_burden_masks

        image, liver, tumour, has_tumour = masks
        written = write_burden_masks(mask_labels(liver | tumour, tumour), image, args.image,
                                     seg=seg, nifti=nifti, with_tumour=has_tumour)
        print(f"burden: wrote {', '.join(map(str, written))}", file=sys.stderr)
    notes = out["notes"]
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    if est is None:
        print("method volumetric (liver volume only)")
        print(f"liver_volume_ml {out['liver_volume_ml']:.2f}")
        for note in notes:
            print(f"note: {note}")
        return 0
    print(f"method {est.method}; scheme {est.scheme}")
    print(f"liver_volume_ml {est.liver_volume_ml:.2f}")
    print(f"tumor_volume_ml {est.tumor_volume_ml:.2f}")
    ci = f" (95 % CI {est.ci95_pct[0]:.2f}–{est.ci95_pct[1]:.2f}, bootstrap over slices " \
         f"{', '.join(map(str, est.slices))})" if est.ci95_pct else ""
    print(f"htb_pct {est.htb_pct:.2f}{ci}")
    print(f"category {est.category}  [{est.edge_rule}]")
    for name, cat in est.categories.items():
        if name != est.scheme:
            print(f"  {name}: {cat}")
    for note in notes:
        print(f"note: {note}")
    return 0


def compute(args: argparse.Namespace) -> tuple[dict[str, Any], Any]:
    """The burden of ``args`` as the ``--json`` output (and the estimate; None for the liver
    volume only): what ``batch`` collects per item."""
    out, est, _masks = _measure(args)
    return out, est


def _measure(args: argparse.Namespace) -> tuple[dict[str, Any], Any, tuple[Any, ...]]:
    """:func:`compute`, and the masks measured: (image, liver, tumour, whether a tumour mask or
    label was given)."""
    from response_tool.io.image import load_image
    from response_tool.io.masks import read_label_map

    scheme = burden.get_scheme(args.scheme)
    print(f"burden: loading {args.image} …", file=sys.stderr, flush=True)
    image = load_image(args.image)
    notes = [f"image: {w}" for w in image.warnings]
    coverage: dict[str, Any] = {}
    liver_map = read_label_map(args.liver_mask, image)
    notes += liver_map.notes
    liver_values = _values(liver_map.labels, args.liver_label, args.liver_mask, "liver",
                           "--liver-label")
    tumour_path = args.tumor_mask or args.liver_mask
    tumour_values: list[int] = []
    tumour_map = None
    if args.tumor_mask is None and args.tumor_label:
        tumour_map = liver_map
        tumour_values = _values(liver_map.labels, args.tumor_label, args.liver_mask, "tumour",
                                "--tumor-label")
    elif args.tumor_mask is not None:
        tumour_map = read_label_map(args.tumor_mask, image)
        notes += tumour_map.notes
        if tumour_map.labels.any():  # no tumour at all is a valid answer: HTB 0 %
            tumour_values = _values(tumour_map.labels, args.tumor_label, args.tumor_mask,
                                    "tumour", "--tumor-label")
    same_map = tumour_map is liver_map
    _outside_image(liver_map, liver_values + (tumour_values if same_map else []), "liver", image,
                   notes, coverage)
    _cut_by_mask_grid(liver_map, liver_values + (tumour_values if same_map else []), "liver",
                      notes)
    liver = np.isin(liver_map.labels, liver_values)
    tumour = (np.isin(tumour_map.labels, tumour_values) if tumour_map is not None and tumour_values
              else np.zeros_like(liver))
    if tumour_map is not None and not same_map and tumour_values:
        _outside_image(tumour_map, tumour_values, "tumour", image, notes, coverage)
        _cut_by_mask_grid(tumour_map, tumour_values, "tumour", notes)
    if tumour.any():
        _tumour_outside_liver(liver, tumour, image, tumour_path, notes, coverage)
    notes += _image_faces(liver | tumour, image)
    spacing = image.spacing_zyx_mm
    masks = (image, liver, tumour, tumour_map is not None)
    if tumour_map is None:
        return (*_liver_only(args, image, liver, notes, coverage), masks)
    if args.method == "volumetric":
        est = burden.volumetric(liver, tumour, spacing, scheme)
    else:
        est = burden.semi_quantitative_from_masks(liver, tumour, spacing, args.slices, scheme)
        voxel_ml = float(np.prod(spacing)) / 1000.0
        est = _with_volumes(est, float(np.count_nonzero(liver | tumour)) * voxel_ml,
                            float(np.count_nonzero(tumour)) * voxel_ml)
    notes += list(est.notes)
    details = est.to_dict()
    details["notes"] = notes
    for key in ("slice_liver_area_mm2", "slice_tumor_area_mm2"):
        details[key] = [round(a, 2) for a in details[key]]
    if details["ci95_pct"]:
        details["ci95_pct"] = [round(v, 4) for v in details["ci95_pct"]]
    out = {"liver_volume_ml": round(est.liver_volume_ml, 4), "tumor_volume_ml":
           round(est.tumor_volume_ml, 4), "htb_pct": round(est.htb_pct, 4), "category": est.category,
           **{k: v for k, v in details.items()
              if k not in ("liver_volume_ml", "tumor_volume_ml", "htb_pct", "category")},
           "image": str(args.image), "spacing_zyx_mm": [float(v) for v in spacing],
           "coverage": coverage}
    return out, est, masks


def _liver_only(args: argparse.Namespace, image: Any, liver: np.ndarray, notes: list[str],
                coverage: dict[str, Any]) -> tuple[dict[str, Any], None]:
    """No tumour mask or label: the liver volume, no HTB."""
    liver_ml = burden.liver_volume_ml(liver, image.spacing_zyx_mm)
    notes = [*notes, "no tumour mask or label given: liver volume only, no HTB (give --tumor-mask "
                     "MASK or --tumor-label N for it)"]
    return {"liver_volume_ml": round(liver_ml, 4), "tumor_volume_ml": None, "htb_pct": None,
            "category": None, "method": "volumetric", "scheme": None, "notes": notes,
            "image": str(args.image), "spacing_zyx_mm": [float(v) for v in image.spacing_zyx_mm],
            "coverage": coverage}, None


def _with_volumes(est: burden.BurdenEstimate, liver_ml: float, tumour_ml: float
                  ) -> burden.BurdenEstimate:
    """The semi-quantitative estimate, with the masks' whole volumes for reference."""
    from dataclasses import replace

    return replace(est, liver_volume_ml=liver_ml, tumor_volume_ml=tumour_ml)
