"""Click-to-measure's proposals on real lesions, as the reader sees them in napari: the image in
patient millimetres, the proposed long (yellow) and short (cyan) axes drawn with the Reading
panel's colours and labelled with their lengths, the lesion's 3-D mask as an outline, the whole
slice in view. Screenshots in out/test-screenshots/measure_real_*.png (looked at: issue 22's
closing note says what they show)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("napari")

from real_lesions import shared_lesion  # noqa: E402

from response_tool.domain.vocabulary import DiameterKind  # noqa: E402
from response_tool.reading.measure import propose  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "test-screenshots"

CASES = [  # lesion, click, display window (centre, width), what it shows
    ("lung2", "centre", (-300.0, 1500.0), "lung tumour against the mediastinum"),
    ("hcc034", "+x", (60.0, 350.0), "HCC on its arterial slice, 3 mm off centre"),
    ("brain1-1", "+x", None, "MR lesion, 3 mm off centre"),
    ("breast1", "-x", None, "a leak into a duct: warned"),
]


@pytest.mark.parametrize("lesion_id,click,window,what", CASES)
def test_a_proposal_on_a_real_lesion_is_drawn_where_the_lesion_is(
        make_napari_viewer, shared_data, lesion_id, click, window, what):
    from napari_response_tool._screenshots import save_screenshot
    from napari_response_tool._widgets.reading.annotation_kinds import COLORS, WIDTHS

    lesion = shared_lesion(lesion_id)
    volume = lesion.volume
    p = propose(volume, lesion.clicks()[click])
    viewer = make_napari_viewer()
    # shown on its voxel grid in mm (these files' directions differ: brain1's rows run to -y), the
    # proposal's patient-mm points brought onto it
    scale = volume.spacing_zyx_mm
    translate = (0.0, 0.0, 0.0)

    def on_grid(points_zyx_mm):  # voxel indices (the slice a whole number)
        index = np.array([volume.xyz_mm_to_index_zyx(np.asarray(q)[::-1]) for q in points_zyx_mm])
        index[:, 0] = np.round(index[:, 0])
        return index

    if window is None:  # MR: its own intensities, 1st to 99.5th percentile
        lo, hi = (float(v) for v in np.percentile(volume.array, [1, 99.5]))
    else:
        lo, hi = window[0] - window[1] / 2, window[0] + window[1] / 2
    viewer.add_image(volume.array, scale=scale, translate=translate, name=lesion_id,
                     contrast_limits=(lo, hi))
    mask = viewer.add_labels(p.mask.full(), scale=scale, translate=translate, name="lesion mask",
                             opacity=0.8)
    mask.contour = 1
    lines = [on_grid(p.long), on_grid(p.short)]
    text = [f"{p.long_mm:.1f} x {p.short_mm:.1f} mm", ""]  # one label, on the long axis
    shapes = viewer.add_shapes(lines, shape_type="line", name="proposal", scale=scale,
                               edge_color=[COLORS[DiameterKind.LONG], COLORS[DiameterKind.SHORT]],
                               edge_width=[WIDTHS[DiameterKind.LONG] / scale[1],
                                           WIDTHS[DiameterKind.SHORT] / scale[1]],
                               features={"label": text},
                               text={"string": "{label}", "size": 12, "color": "yellow",
                                     "anchor": "lower_right"})
    viewer.window.resize(1400, 1000)
    for dock in ("dockLayerList", "dockLayerControls"):  # the canvas alone, as large as it goes
        getattr(viewer.window._qt_viewer, dock).setVisible(False)
    viewer.dims.set_point(0, float(lines[0][0][0] * scale[0]))
    viewer.reset_view()  # the whole slice in view
    overlay = viewer.canvas.overlays.text
    overlay.visible = True
    overlay.text = (f"{lesion_id}: {what}\nproposed long {p.long_mm} mm, short "
                                f"{p.short_mm} mm (expert {lesion.long_mm:.1f} / "
                                f"{lesion.short_mm:.1f}); confidence {p.confidence}"
                                + "".join(f"\n⚠ {w[:90]}" for w in p.warnings))
    overlay.font_size = 10
    path = save_screenshot(viewer, SCREENSHOTS / f"measure_real_{lesion_id}_{click}.png")
    assert path.stat().st_size > 10_000
    # the lines lie on the mask's slice, their ends on the mask's edge
    ends = np.round(on_grid(p.long)).astype(int)
    z = int(ends[0][0])
    assert z == p.slice_index and mask.data[z].any()
    near = np.zeros(mask.data[z].shape, bool)
    for _, y, x in ends:
        near[max(y - 2, 0):y + 3, max(x - 2, 0):x + 3] = True
    assert (near & (mask.data[z] > 0)).any()
    assert len(shapes.data) == 2
    if abs(p.long_mm - lesion.long_mm) / lesion.long_mm > 0.5:
        assert p.warnings and p.confidence != "high"
