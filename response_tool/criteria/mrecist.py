"""mRECIST for liver tumours: viable (arterially enhancing) target diameters.

References
----------
.. [1] Lencioni R, Llovet JM. Modified RECIST (mRECIST) assessment for hepatocellular carcinoma.
   Semin Liver Dis 2010;30:52-60. Tables 1 (target lesions), 2 (non-target), 3 (overall), and the
   text on lymph nodes, portal vein thrombosis, effusions and new lesions.
.. [2] Touloupas C et al. Cancers 2021;13:5366 — mRECIST applied to neuroendocrine liver
   metastases after TACE.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from response_tool.domain.vocabulary import (
    EFFUSION_ORGANS,
    PORTA_HEPATIS,
    Organ,
    Status,
    normalise_organ,
)

from . import recist11
from ._tables import (
    CR,
    LENCIONI_2010,
    NE,
    NON_CR_NON_PD,
    NONE,
    PD,
    PR,
    SD,
    BaselineCheck,
    CriterionDefinition,
    Rule,
    Source,
    Threshold,
)

S = Source
CRITERION = "mrecist"
NAME = "mRECIST"

PR_DECREASE = Threshold("MRECIST-PR-30PCT", Fraction(30), "%",
                        "target PR: at least 30 % decrease in the sum of viable diameters from "
                        "baseline", S(LENCIONI_2010, "Table 1, Partial response"))
PD_INCREASE = Threshold("MRECIST-PD-20PCT", Fraction(20), "%",
                        "target PD: at least 20 % increase in the sum of viable diameters over the "
                        "smallest sum recorded since treatment started", S(LENCIONI_2010,
                                                                             "Table 1, Progressive disease"))
PD_ABSOLUTE_DEFAULT = Threshold(
    "MRECIST-PD-ABS-0MM", Fraction(0), "mm",
    "absolute increase over the nadir also required for target PD: the 2010 paper states none, so "
    "the default is 0 mm; the protocol option mrecist_pd_min_mm (CLI --mrecist-pd-min-mm 5) adds "
    "RECIST 1.1's 5 mm floor", S(LENCIONI_2010, "Table 1 (no absolute floor stated)"))
PORTA_HEPATIS_NODE = Threshold("MRECIST-NODE-PORTA-20MM", Fraction(20), "mm",
                               "a lymph node at the porta hepatis is malignant only with short axis "
                               ">= 20 mm", S(LENCIONI_2010, "section on lymph nodes"))
NEW_INTRAHEPATIC = Threshold("MRECIST-NEW-10MM", Fraction(10), "mm",
                             "a new intrahepatic lesion counts when >= 10 mm with the typical "
                             "vascular pattern (arterial hyper-enhancement with washout)",
                             S(LENCIONI_2010, "section on new lesions"))

ARTERIAL_ENHANCEMENT = Threshold(
    "MRECIST-TARGET-ENHANCING", Fraction(0), "mm",
    "an mRECIST target shows intratumoural arterial enhancement (viable diameter > 0 mm at "
    "baseline); one that does not is measured per RECIST 1.1",
    S(LENCIONI_2010, "section on target lesions (selection)"))

THRESHOLDS = (PR_DECREASE, ARTERIAL_ENHANCEMENT, PD_INCREASE, PD_ABSOLUTE_DEFAULT, PORTA_HEPATIS_NODE,
              NEW_INTRAHEPATIC,
              recist11.MEASURABLE, recist11.NODE_NORMAL, recist11.NODE_TARGET,
              recist11.TOO_SMALL_DEFAULT, recist11.MAX_TARGETS, recist11.MAX_PER_ORGAN)

_T = "Table 1, target lesions (viable tumour = arterially enhancing)"
TARGET_RULES = {
    CR: Rule("MRECIST-TGT-CR", "no intratumoural arterial enhancement in any target lesion "
             "(targets that follow RECIST 1.1: disappeared / nodes < 10 mm)", S(LENCIONI_2010, _T)),
    PR: Rule("MRECIST-TGT-PR", "viable sum at least 30 % below the baseline viable sum",
             S(LENCIONI_2010, _T)),
    PD: Rule("MRECIST-TGT-PD", "viable sum at least 20 % above the nadir (and at least the "
             "protocol's absolute floor)", S(LENCIONI_2010, _T)),
    "PD-reappearance": Rule("MRECIST-TGT-PD-REAPPEAR", "enhancement reappears in a target after an "
                            "overall CR; after a target CR without an overall CR the sum rule "
                            "applies", S(LENCIONI_2010, _T + "; as RECIST 1.1 section 4.4.2, "
                                         "Table 3 footnote, which mRECIST keeps")),
    "PD-proven-despite-missing": Rule("MRECIST-TGT-PD-PARTIAL", "some targets not assessed, but the "
                                      "assessed ones already meet PD", S(LENCIONI_2010, _T)),
    NE: Rule("MRECIST-TGT-NE", "a target lesion was not assessed and PD is not proven",
             S(LENCIONI_2010, _T)),
    SD: Rule("MRECIST-TGT-SD", "neither PR nor PD", S(LENCIONI_2010, _T)),
    "PR-sustained": Rule("MRECIST-TGT-PR-SUSTAINED", "after a PR, a viable sum back above -30 % of "
                         "baseline that is not PD stays PR (option pr_carried_forward)",
                         S("RECIST Working Group, RECIST 1.1 FAQ", "'Managing PR when TP "
                           "measurements change slightly over time' (applied to mRECIST)")),
    NONE: Rule("MRECIST-TGT-NONE", "no target lesion at baseline", S(LENCIONI_2010, "Table 3")),
}
_N = "Table 2, non-target lesions"
NON_TARGET_RULES = {
    CR: Rule("MRECIST-NT-CR", "arterial enhancement gone from every non-target lesion",
             S(LENCIONI_2010, _N)),
    NON_CR_NON_PD: Rule("MRECIST-NT-IR-SD", "incomplete response / stable disease: enhancement "
                        "persists in at least one non-target lesion", S(LENCIONI_2010, _N)),
    PD: Rule("MRECIST-NT-PD", "unequivocal progression of existing non-target lesions (an effusion "
             "or ascites only with cytological proof)", S(LENCIONI_2010, _N)),
    "PD-reappearance": Rule("MRECIST-NT-PD-REAPPEAR", "enhancement (or the lesion) is seen again in "
                            "a non-target lesion after an overall CR",
                            S(LENCIONI_2010, _N + "; as RECIST 1.1 section 4.4.2, Table 3 "
                                              "footnote a")),
    NE: Rule("MRECIST-NT-NE", "a non-target lesion was not evaluated", S(LENCIONI_2010, _N)),
    NONE: Rule("MRECIST-NT-NONE", "no non-target lesion at baseline: not NE",
               S(LENCIONI_2010, "Table 3")),
}
NEW_RULES = {
    "yes": Rule("MRECIST-NEW-YES", "an unequivocal new lesion (intrahepatic: >= 10 mm with the "
                "typical vascular pattern; effusion/ascites: cytologically proven)",
                S(LENCIONI_2010, "section on new lesions")),
    "equivocal": Rule("MRECIST-NEW-EQUIVOCAL", "an equivocal new lesion (e.g. intrahepatic < 10 mm, "
                      "too small to measure or not measured; effusion without cytology; node below "
                      "its size limit): not PD", S(LENCIONI_2010, "section on new lesions")),
    "no": Rule("MRECIST-NEW-NO", "no new lesion", S(LENCIONI_2010, "section on new lesions")),
}

#: reading rules the reading session applies under mRECIST
READING_RULES = {
    "viable-arterial": Rule(
        "MRECIST-VIABLE-ARTERIAL", "the viable (enhancing) diameter is measured on the arterial "
        "phase, where enhancing tumour is distinct from necrosis",
        S(LENCIONI_2010, "section on target lesions: measurement of viable tumour in the arterial "
                         "phase")),
}

T3 = S(LENCIONI_2010, "Table 3 (overall response; same lines as RECIST 1.1 Table 1)")
OVERALL = recist11.overall_table("MRECIST-OVERALL", "MRECIST", T3, T3)



# -- measurement selection and ordered decisions (what the engine runs) -----------------------------
def pd_floor_mm(options: Any, enhancing: np.ndarray) -> np.ndarray:
    """The absolute increase target PD needs: none in the paper; the option
    ``mrecist_pd_min_mm`` (0 by default, :data:`PD_ABSOLUTE_DEFAULT`) sets one. A read none of
    whose targets enhanced is measured as under RECIST 1.1, with its 5 mm floor (option
    ``mrecist_recist_floor_without_enhancement``, :data:`ARTERIAL_ENHANCEMENT`)."""
    floor = float(Fraction(options.mrecist_pd_min_mm).limit_denominator(1000))
    if not options.mrecist_recist_floor_without_enhancement:
        return np.full(len(enhancing), floor)
    return np.where(enhancing, floor, recist11.PD_ABSOLUTE.as_float)


def target_measure(g: Any) -> tuple[np.ndarray, np.ndarray]:
    """A non-nodal target that enhanced at baseline follows its viable (arterially enhancing)
    diameter; every other target is measured as under RECIST 1.1
    (:data:`ARTERIAL_ENHANCEMENT`)."""
    follows_viable = ~g.nodal & (np.nan_to_num(g.base_viable_mm, nan=0.0) > 0)
    value, _ = recist11.target_measure(g)
    return np.where(follows_viable, g.viable_mm, value), follows_viable


def non_target_state(g: Any, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A non-target is gone also when its enhancement has gone (viable 0 mm); an effusion or
    ascites progresses only with cytological proof (Table 2)."""
    gone, progression = recist11.non_target_state(g, status)
    gone = gone | ((g.viable_mm == 0) & ~progression)
    return gone, progression & (~g.effusion | g.cytology)


def intrahepatic(new: Any) -> np.ndarray:
    """New lesions in the liver, whatever the site is called (``liver segment 8``, ``S4a``…)."""
    organ = new["organ"]
    if isinstance(organ.dtype, pd.CategoricalDtype):
        per_category = np.asarray([normalise_organ(c) == Organ.LIVER for c in organ.cat.categories])
        codes = organ.cat.codes.to_numpy()
        return np.where(codes >= 0, np.r_[per_category, False][codes], False)
    return np.asarray([normalise_organ(o) == Organ.LIVER for o in organ], dtype=bool)


def small_intrahepatic(new: Any) -> np.ndarray:
    """New intrahepatic lesions below 10 mm: measured below it, or recorded too small to
    measure (:data:`NEW_INTRAHEPATIC`)."""
    if not len(new):
        return np.zeros(0, dtype=bool)
    long_axis = new["long_axis_mm"].to_numpy(dtype=float)
    too_small = (new["status"].astype(str) == Status.TOO_SMALL).to_numpy()
    return intrahepatic(new) & ((long_axis < NEW_INTRAHEPATIC.as_float) | too_small)


def unsized_intrahepatic(new: Any) -> np.ndarray:
    """New intrahepatic lesions seen but not measured: whether they reach 10 mm is unknown."""
    if not len(new):
        return np.zeros(0, dtype=bool)
    status = new["status"].astype(str).to_numpy()
    unsized = np.isin(status, (Status.PRESENT, Status.MEASURED)) \
        & np.isnan(new["long_axis_mm"].to_numpy(dtype=float))
    return intrahepatic(new) & unsized


def new_lesion_demoted(new: Any, unequivocal: np.ndarray) -> np.ndarray:
    """Unequivocal new lesions that mRECIST counts only as equivocal: an intrahepatic lesion
    below 10 mm, too small to measure, or not measured (:data:`NEW_INTRAHEPATIC`), an effusion
    without cytology, a porta-hepatis node below 20 mm short axis (:data:`PORTA_HEPATIS_NODE`),
    and, as under RECIST 1.1, any other node below 10 mm short axis."""
    if not len(new):
        return np.zeros(0, dtype=bool)
    organ = new["organ"].str.lower()
    short = new["short_axis_mm"].to_numpy(dtype=float)
    cytology = new["cytology_proven"].to_numpy(dtype=bool, na_value=False)
    nodal = new["is_nodal"].to_numpy(dtype=bool, na_value=False)
    effusion = organ.isin(EFFUSION_ORGANS).to_numpy() & ~cytology
    porta = organ.str.contains(PORTA_HEPATIS).to_numpy() & nodal
    small_porta = porta & ~(short >= PORTA_HEPATIS_NODE.as_float)
    return unequivocal & (small_intrahepatic(new) | unsized_intrahepatic(new) | effusion
                          | small_porta | (recist11.small_new_node(new) & ~porta))


BASELINE_CHECKS = (
    BaselineCheck(
        PORTA_HEPATIS_NODE, 20, lambda t: t.nodal & t.rows["organ"].astype(str).str.lower()
        .str.contains(PORTA_HEPATIS).to_numpy() & (t.short < PORTA_HEPATIS_NODE.as_float),
        lambda t, m: "porta-hepatis node " + recist11.ids(t.rows[m]) + ": short axis "
        + recist11.mm(t.rows["short_axis_mm"][m], t.rows.index[m])
        + " mm < 20 mm is not malignant by mRECIST"),
    BaselineCheck(
        ARTERIAL_ENHANCEMENT, 40, lambda t: ~t.nodal & ~(t.viable > 0),
        lambda t, m: "lesion " + recist11.ids(t.rows[m]) + ": no arterial enhancement recorded at "
        "baseline; under mRECIST it follows RECIST 1.1 (total long axis)"),
)


NEW_LESION_CHECKS = (
    BaselineCheck(
        NEW_INTRAHEPATIC, 20, lambda t: t.unequivocal & small_intrahepatic(t.rows),
        lambda t, m: "new liver lesion " + recist11.ids(t.rows[m]) + recist11._when(t.rows, m)
        + ": below 10 mm (or too small to measure); counted as equivocal (not PD) by mRECIST"),
    BaselineCheck(
        NEW_INTRAHEPATIC, 30, lambda t: t.unequivocal & unsized_intrahepatic(t.rows),
        lambda t, m: "new liver lesion " + recist11.ids(t.rows[m]) + recist11._when(t.rows, m)
        + ": not measured; mRECIST counts a new intrahepatic lesion from 10 mm — measure its "
        "longest diameter (counted as equivocal, not PD, until then)"),
)


DEFINITION = CriterionDefinition(
    id=CRITERION, name=NAME, pr_decrease=PR_DECREASE, pd_increase=PD_INCREASE,
    pd_floor_mm=pd_floor_mm, target_measure=target_measure, target_cr=recist11.target_cr,
    target_decisions=recist11.target_decisions("MRECIST", TARGET_RULES),
    non_target_state=non_target_state,
    non_target_decisions=recist11.non_target_decisions("MRECIST", NON_TARGET_RULES),
    new_lesion_demoted=new_lesion_demoted,
    new_lesion_decisions=recist11.new_lesion_decisions("MRECIST", NEW_RULES),
    overall=OVERALL,
    baseline_checks=BASELINE_CHECKS,
    new_lesion_checks=NEW_LESION_CHECKS + tuple(
        c for c in recist11.NEW_LESION_CHECKS),
)

__all__ = ["CR", "DEFINITION", "PR", "SD", "PD", "NE", "OVERALL", "THRESHOLDS", "TARGET_RULES",
           "NON_TARGET_RULES", "NEW_RULES"]
