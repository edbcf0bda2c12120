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

from . import recist11
from ._tables import CR, LENCIONI_2010, NE, NON_CR_NON_PD, NONE, PD, PR, SD, Rule, Source, Threshold

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
    "PD-reappearance": Rule("MRECIST-TGT-PD-REAPPEAR", "enhancement reappears in a target after a "
                            "target CR", S(LENCIONI_2010, _T)),
    "PD-proven-despite-missing": Rule("MRECIST-TGT-PD-PARTIAL", "some targets not assessed, but the "
                                      "assessed ones already meet PD", S(LENCIONI_2010, _T)),
    NE: Rule("MRECIST-TGT-NE", "a target lesion was not assessed and PD is not proven",
             S(LENCIONI_2010, _T)),
    SD: Rule("MRECIST-TGT-SD", "neither PR nor PD", S(LENCIONI_2010, _T)),
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
    NE: Rule("MRECIST-NT-NE", "a non-target lesion was not evaluated", S(LENCIONI_2010, _N)),
    NONE: Rule("MRECIST-NT-NONE", "no non-target lesion at baseline: not NE",
               S(LENCIONI_2010, "Table 3")),
}
NEW_RULES = {
    "yes": Rule("MRECIST-NEW-YES", "an unequivocal new lesion (intrahepatic: >= 10 mm with the "
                "typical vascular pattern; effusion/ascites: cytologically proven)",
                S(LENCIONI_2010, "section on new lesions")),
    "equivocal": Rule("MRECIST-NEW-EQUIVOCAL", "an equivocal new lesion (e.g. intrahepatic < 10 mm, "
                      "effusion without cytology): not PD", S(LENCIONI_2010, "section on new lesions")),
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

__all__ = ["CR", "PR", "SD", "PD", "NE", "OVERALL", "THRESHOLDS", "TARGET_RULES",
           "NON_TARGET_RULES", "NEW_RULES"]
