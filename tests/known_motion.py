"""A volume moved as a patient moves between two studies — rotated about z and shifted — with the
true registration: for the tests and benchmarks of the follow-up search (propagation)."""

from __future__ import annotations

import math

import numpy as np
import SimpleITK as sitk

from response_tool.io.volume import Volume
from response_tool.reading.propagation import Registration


def moved(volume: Volume, rotation_deg: float, translation_xyz: tuple[float, float, float],
          centre_xyz: tuple[float, float, float], fill: float = -1000.0
          ) -> tuple[Volume, Registration]:
    """``volume`` as a follow-up with the patient moved, and the registration that is the truth."""
    th = math.radians(rotation_deg)
    r = np.array([[math.cos(th), -math.sin(th), 0], [math.sin(th), math.cos(th), 0], [0, 0, 1]])
    truth = Registration(tuple(map(tuple, r)), translation_xyz, centre_xyz)
    inverse = sitk.AffineTransform(3)
    inverse.SetCenter(centre_xyz)
    inverse.SetMatrix(tuple(np.linalg.inv(r).ravel()))
    inverse.SetTranslation(tuple(-np.linalg.inv(r) @ np.asarray(translation_xyz)))
    image = volume.to_sitk()
    return Volume.from_sitk(sitk.Resample(image, image, inverse, sitk.sitkLinear, fill)), truth
