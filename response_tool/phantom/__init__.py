"""A deterministic multiphase longitudinal liver phantom written as real CT DICOM.

See :mod:`response_tool.phantom.scenario` for the anatomy, lesions and expected responses, and
``docs/phantom.md`` for the ground truth's definitions.
"""

from .generate import PHANTOM_VERSION, PhantomResult, baseline_focus, generate_phantom, is_current

__all__ = ["PHANTOM_VERSION", "PhantomResult", "baseline_focus", "generate_phantom", "is_current"]
