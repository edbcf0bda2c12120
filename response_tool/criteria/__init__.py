"""Response criteria, each a module that owns its rules.

:data:`CRITERIA` maps each criterion id (:class:`~response_tool.domain.vocabulary.Criterion`) to
its module, in the order outputs list them (RECIST 1.1, then mRECIST). A criterion module holds
its ``NAME`` (display name), its thresholds (``PR_DECREASE``, ``PD_INCREASE``, …, each with its
published source), how it selects the value of a target, and its target / non-target /
new-lesion decisions as ordered rule lists (first match wins). The engine
(:mod:`response_tool.criteria.engine`) holds only criterion-free kernels and reads those rules.
"""

from __future__ import annotations

from types import ModuleType

from response_tool.domain.vocabulary import Criterion

from . import mrecist, recist11

#: criterion id → its module, in output order
CRITERIA: dict[str, ModuleType] = {Criterion.RECIST11.value: recist11, Criterion.MRECIST.value: mrecist}

__all__ = ["CRITERIA"]
