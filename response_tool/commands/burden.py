"""``response-tool burden --image PATH --liver-mask MASK … [--json]``: hepatic tumour burden."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from response_tool import burden
from response_tool.domain.errors import BurdenInputError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "burden", help="hepatic tumour burden (HTB %% and category) from liver and tumour masks",
        description="HTB = tumour volume / liver volume (tumour included) x 100, from masks aligned "
                    "onto the image by physical coordinates (NIfTI, NRRD or DICOM SEG). The liver is "
                    "the union of the liver and tumour masks. Prints liver_volume_ml, "
                    "tumor_volume_ml, htb_pct and category (docs/burden.md).")
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
    p.set_defaults(func=run)


def _labels(labels: np.ndarray, wanted: list[int] | None, path: str, what: str, flag: str
            ) -> np.ndarray:
    present = [int(v) for v in np.flatnonzero(burden.label_counts(labels)) if v]
    if not present:
        raise BurdenInputError(f"{path}: the mask is empty on this image; check the mask")
    if wanted is None:
        if len(present) > 1:
            raise BurdenInputError(
                f"{path}: the mask holds labels {', '.join(map(str, present))}; say which is the "
                f"{what} with {flag} N")
        wanted = present
    missing = [v for v in wanted if v not in present]
    if len(missing) == len(wanted):
        raise BurdenInputError(f"{path}: {what} label(s) {', '.join(map(str, missing))} not in the "
                               f"mask on this image (labels present: {', '.join(map(str, present))})"
                               f"; choose from those")
    if missing:  # e.g. a lesion label that only exists at later time points
        print(f"burden: note: {what} label(s) {', '.join(map(str, missing))} absent from {path}",
              file=sys.stderr)
    return np.isin(labels, wanted)


def run(args: argparse.Namespace) -> int:
    from response_tool.io.image import load_image
    from response_tool.io.masks import load_label_map

    scheme = burden.get_scheme(args.scheme)
    if args.tumor_mask is None and not args.tumor_label:
        raise BurdenInputError("say where the tumour is: --tumor-mask MASK, or --tumor-label N for "
                               "a label of --liver-mask")
    print(f"burden: loading {args.image} …", file=sys.stderr, flush=True)
    image = load_image(args.image)
    liver_map = load_label_map(args.liver_mask, image)
    liver = _labels(liver_map, args.liver_label, args.liver_mask, "liver", "--liver-label")
    if args.tumor_mask is None:
        tumour = _labels(liver_map, args.tumor_label, args.liver_mask, "tumour", "--tumor-label")
    else:
        tumour_map = load_label_map(args.tumor_mask, image)
        if not tumour_map.any():  # no tumour at all is a valid answer: HTB 0 %
            tumour = np.zeros_like(liver)
        else:
            tumour = _labels(tumour_map, args.tumor_label, args.tumor_mask, "tumour", "--tumor-label")
    spacing = image.spacing_zyx_mm
    if args.method == "volumetric":
        est = burden.volumetric(liver, tumour, spacing, scheme)
    else:
        est = burden.semi_quantitative_from_masks(liver, tumour, spacing, args.slices, scheme)
        voxel_ml = float(np.prod(spacing)) / 1000.0
        est = _with_volumes(est, float(np.count_nonzero(liver | tumour)) * voxel_ml,
                            float(np.count_nonzero(tumour)) * voxel_ml)
    details = est.to_dict()
    for key in ("slice_liver_area_mm2", "slice_tumor_area_mm2"):
        details[key] = [round(a, 2) for a in details[key]]
    if details["ci95_pct"]:
        details["ci95_pct"] = [round(v, 4) for v in details["ci95_pct"]]
    out = {"liver_volume_ml": round(est.liver_volume_ml, 4), "tumor_volume_ml":
           round(est.tumor_volume_ml, 4), "htb_pct": round(est.htb_pct, 4), "category": est.category,
           **{k: v for k, v in details.items()
              if k not in ("liver_volume_ml", "tumor_volume_ml", "htb_pct", "category")},
           "image": str(args.image), "spacing_zyx_mm": [float(v) for v in spacing]}
    if args.json:
        print(json.dumps(out, indent=2))
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
    return 0


def _with_volumes(est: burden.BurdenEstimate, liver_ml: float, tumour_ml: float
                  ) -> burden.BurdenEstimate:
    """The semi-quantitative estimate, with the masks' whole volumes for reference."""
    from dataclasses import replace

    return replace(est, liver_volume_ml=liver_ml, tumor_volume_ml=tumour_ml)
