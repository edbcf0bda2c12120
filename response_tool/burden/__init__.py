"""Hepatic tumour burden (HTB): the share of the liver replaced by tumour, and its category.

HTB = tumour volume inside the liver / total liver volume (tumour included) × 100. Three methods,
and every estimate records which one produced it:

- ``volumetric``: from 3-D masks on the image grid (volumes use the true slice spacing, from the
  slice positions, never SliceThickness);
- ``semi-quantitative``: from liver and tumour outlines on 4–6 axial slices spread evenly over the
  liver's cranio-caudal extent: HTB ≈ Σ tumour area / Σ liver area, with a bootstrap over the
  slices as its uncertainty;
- ``visual``: the reader picks the category.

The liver is the union of the liver and tumour masks, so a liver mask that includes its tumours
and one that excludes them give the same HTB; the tumour mask should hold liver tumours only.

One module per concern, all re-exported here:

- :mod:`.schemes` — the category schemes (liu2022, touloupas2021, promid, involvement50,
  ``custom:E1,E2,…``), their edge rules and published sources;
- :mod:`.estimates` — :class:`BurdenEstimate` and the volumetric, semi-quantitative (with its
  bootstrap interval) and visual estimates;
- :mod:`.table` — the burden table of ``assess --burden`` (:func:`read_burden_table`);
- :mod:`.coverage` — is the HTB about the whole liver and only liver tumour: tumour regions away
  from the liver, masks lying on the image's faces, and the limits for refusing or noting;
- :mod:`.outline` — outline assistance: proposed slices, the liver grown from a click, tumour
  outlines started from the lesions' diameters (on slices with a liver outline only), areas per
  slice.

This package imports only :mod:`response_tool.domain` from the core.
"""

from response_tool.domain.errors import BurdenInputError

from .coverage import (
    CUT_NOTE_FRACTION,
    CUT_REFUSE_FRACTION,
    OUTSIDE_REFUSE_FRACTION,
    TUMOUR_OUTSIDE_REFUSE_FRACTION,
    EdgeContact,
    OutsideLiver,
    edge_contacts,
    tumour_outside_liver,
)
from .estimates import (
    METHODS,
    BurdenEstimate,
    label_counts,
    liver_volume_ml,
    present_labels,
    semi_quantitative,
    semi_quantitative_from_masks,
    visual,
    volumetric,
    volumetric_from_labels,
)
from .outline import (
    LIVER_LABEL,
    TUMOUR_LABEL,
    TumourStarts,
    ellipse_on_slice,
    grow_region_2d,
    paint_liver,
    propose_slices,
    propose_slices_between,
    slice_areas_mm2,
    tumours_from_diameters,
)
from .schemes import SCHEMES, Bin, Scheme, custom_scheme, get_scheme
from .table import BURDEN_COLUMNS, read_burden_table

__all__ = ["SCHEMES", "METHODS", "BurdenEstimate", "BurdenInputError", "Scheme", "custom_scheme",
           "get_scheme", "propose_slices", "semi_quantitative", "semi_quantitative_from_masks",
           "visual", "volumetric", "volumetric_from_labels", "read_burden_table", "BURDEN_COLUMNS",
           "grow_region_2d", "slice_areas_mm2", "propose_slices_between", "ellipse_on_slice",
           "Bin", "label_counts", "LIVER_LABEL", "TUMOUR_LABEL", "paint_liver",
           "tumours_from_diameters", "TumourStarts", "CUT_NOTE_FRACTION", "CUT_REFUSE_FRACTION",
           "OUTSIDE_REFUSE_FRACTION", "TUMOUR_OUTSIDE_REFUSE_FRACTION", "EdgeContact",
           "OutsideLiver", "edge_contacts", "tumour_outside_liver", "liver_volume_ml",
           "present_labels"]
