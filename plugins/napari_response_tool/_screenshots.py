"""Screenshots of the whole napari window (canvas and docked panels) as PNG files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import imageio.v3 as iio

if TYPE_CHECKING:
    import napari


def save_screenshot(viewer: napari.Viewer, path: str | Path, *, canvas_only: bool = False) -> Path:
    """Render ``viewer`` (needs a real or virtual display) and write it to ``path`` as PNG."""
    from qtpy.QtWidgets import QApplication

    QApplication.processEvents()
    image = viewer.screenshot(canvas_only=canvas_only, flash=False)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(target, image)
    return target
