"""RECIST 1.1: thresholds, target/non-target rules and the overall time-point response tables.

References
----------
.. [1] Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
   tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247.
   Section 3.1 (measurability), 3.3 (target lesions), 4.3.1-4.3.3 (response), Tables 1-3.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from response_tool.domain.measurements import STATUSES
from response_tool.domain.vocabulary import NODES_AS_ONE_ORGAN, normalise_organ

from ._tables import (
    CR,
    EISENHAUER_2009,
    NE,
    NEW_NO,
    NEW_YES,
    NON_CR_NON_PD,
    NONE,
    PD,
    PR,
    SD,
    BaselineCheck,
    CriterionDefinition,
    Decision,
    DecisionList,
    DecisionTable,
    Fact,
    Row,
    Rule,
    Source,
    Threshold,
    any_of,
)

S = Source
CRITERION = "recist1.1"
NAME = "RECIST 1.1"

# -- thresholds ------------------------------------------------------------------------------------
PR_DECREASE = Threshold("RECIST1.1-PR-30PCT", Fraction(30), "%",
                        "target PR: sum of diameters at least 30 % below the baseline sum",
                        S(EISENHAUER_2009, "section 4.3.1, Partial Response"))
PD_INCREASE = Threshold("RECIST1.1-PD-20PCT", Fraction(20), "%",
                        "target PD: sum at least 20 % above the smallest sum on study (nadir)",
                        S(EISENHAUER_2009, "section 4.3.1, Progressive Disease"))
PD_ABSOLUTE = Threshold("RECIST1.1-PD-5MM", Fraction(5), "mm",
                        "target PD also needs an absolute increase of at least 5 mm over the nadir",
                        S(EISENHAUER_2009, "section 4.3.1, Progressive Disease"))
NODE_NORMAL = Threshold("RECIST1.1-NODE-10MM", Fraction(10), "mm",
                        "a lymph node with short axis < 10 mm is normal (CR of nodal targets)",
                        S(EISENHAUER_2009, "section 3.1.1 and 4.3.1, Complete Response"))
NODE_TARGET = Threshold("RECIST1.1-NODE-15MM", Fraction(15), "mm",
                        "a lymph node is measurable (may be a target) with short axis >= 15 mm",
                        S(EISENHAUER_2009, "section 3.1.1, Malignant lymph nodes"))
MEASURABLE = Threshold("RECIST1.1-MEASURABLE-10MM", Fraction(10), "mm",
                       "a non-nodal lesion is measurable with longest diameter >= 10 mm (CT, slices "
                       "<= 5 mm); with thicker slices the minimum is twice the slice thickness",
                       S(EISENHAUER_2009, "section 3.1.1, Measurable"))
THICK_SLICE = Threshold("RECIST1.1-SLICE-5MM", Fraction(5), "mm",
                        "above this slice thickness the measurable minimum is 2 x slice thickness",
                        S(EISENHAUER_2009, "section 3.1.1 and Appendix II"))
TOO_SMALL_DEFAULT = Threshold("RECIST1.1-TOO-SMALL-5MM", Fraction(5), "mm",
                              "a target present but too small to measure is recorded as 5 mm",
                              S(EISENHAUER_2009, "Appendix II, Target lesions that become 'too small"
                                                 " to measure'"))
MAX_TARGETS = Threshold("RECIST1.1-MAX-5-TARGETS", Fraction(5), "lesions",
                        "at most 5 target lesions in total", S(EISENHAUER_2009, "section 3.3"))
MAX_PER_ORGAN = Threshold("RECIST1.1-MAX-2-PER-ORGAN", Fraction(2), "lesions",
                          "at most 2 target lesions per organ (all nodes together are one organ)",
                          S(EISENHAUER_2009, "section 3.3"))

THRESHOLDS = (PR_DECREASE, PD_INCREASE, PD_ABSOLUTE, NODE_NORMAL, NODE_TARGET, MEASURABLE,
              THICK_SLICE, TOO_SMALL_DEFAULT, MAX_TARGETS, MAX_PER_ORGAN)

# -- target and non-target rules -------------------------------------------------------------------
_T = "section 4.3.1, Evaluation of target lesions"
TARGET_RULES = {
    CR: Rule("RECIST1.1-TGT-CR", "every non-nodal target has disappeared and every nodal target "
             "has short axis < 10 mm (also when the sum of normal nodes rises: option "
             "normal_nodes_cr_over_sum_pd)",
             S(EISENHAUER_2009, _T + "; section 4.4.4, nodes recorded 'in order not to overstate "
                                     "progression'")),
    PR: Rule("RECIST1.1-TGT-PR", "sum <= baseline sum x (1 - 30 %), and not CR",
             S(EISENHAUER_2009, _T)),
    PD: Rule("RECIST1.1-TGT-PD", "sum >= nadir x (1 + 20 %) and sum - nadir >= 5 mm",
             S(EISENHAUER_2009, _T)),
    "PD-reappearance": Rule("RECIST1.1-TGT-PD-REAPPEAR", "a target reappears after an overall CR "
                            "(non-nodal > 0 mm or node >= 10 mm); after a target CR without an "
                            "overall CR the sum rule applies",
                            S(EISENHAUER_2009, "section 4.4.2, Table 3 footnote (reappearance "
                                               "after CR) and Appendix II, lesions that disappear "
                                               "and reappear; RECIST Working Group FAQ 'Does a "
                                               "new lesion always result in PD?'")),
    "PD-proven-despite-missing": Rule("RECIST1.1-TGT-PD-PARTIAL", "some targets not assessed, but "
                                      "the assessed ones already meet PD",
                                      S(EISENHAUER_2009, "section 4.3.1 and Appendix II, Missing "
                                                         "assessments and inevaluable designation")),
    NE: Rule("RECIST1.1-TGT-NE", "a target lesion was not assessed and PD is not proven",
             S(EISENHAUER_2009, "Appendix II, Missing assessments and inevaluable designation")),
    SD: Rule("RECIST1.1-TGT-SD", "neither PR nor PD", S(EISENHAUER_2009, _T)),
    "PR-sustained": Rule("RECIST1.1-TGT-PR-SUSTAINED", "after a PR, a sum back above -30 % of "
                         "baseline that is not PD stays PR (option pr_carried_forward)",
                         S("RECIST Working Group, RECIST 1.1 FAQ", "'Managing PR when TP "
                           "measurements change slightly over time'")),
    NONE: Rule("RECIST1.1-TGT-NONE", "no target lesion at baseline (non-target disease only)",
               S(EISENHAUER_2009, "section 4.3.3, Table 2")),
}
_N = "section 4.3.2, Evaluation of non-target lesions"
NON_TARGET_RULES = {
    CR: Rule("RECIST1.1-NT-CR", "every non-target lesion has disappeared, every node is "
             "< 10 mm short axis, and tumour markers (where recorded) are normal",
             S(EISENHAUER_2009, _N)),
    NON_CR_NON_PD: Rule("RECIST1.1-NT-NONCR", "at least one non-target lesion persists",
                        S(EISENHAUER_2009, _N)),
    PD: Rule("RECIST1.1-NT-PD", "unequivocal progression of existing non-target lesions",
             S(EISENHAUER_2009, _N)),
    "PD-reappearance": Rule("RECIST1.1-NT-PD-REAPPEAR", "a non-target lesion is seen again after "
                            "an overall CR: any disease reappearing after CR is PD",
                            S(EISENHAUER_2009, "section 4.4.2, Table 3 footnote a")),
    NE: Rule("RECIST1.1-NT-NE", "a non-target lesion was not evaluated (and none progressed)",
             S(EISENHAUER_2009, "section 4.3.3, Table 1 ('not evaluated')")),
    NONE: Rule("RECIST1.1-NT-NONE", "no non-target lesion at baseline: not NE; the overall table "
               "treats it as non-target CR", S(EISENHAUER_2009, "section 4.3.3, Table 1")),
}
NEW_RULES = {
    NEW_YES: Rule("RECIST1.1-NEW-YES", "an unequivocal new lesion", S(EISENHAUER_2009,
                  "section 4.3.2, New lesions")),
    "equivocal": Rule("RECIST1.1-NEW-EQUIVOCAL", "an equivocal new lesion (also a new node below "
                      "10 mm short axis, a normal node): not PD until confirmed; when confirmed, "
                      "PD dates from its first observation",
                      S(EISENHAUER_2009, "section 4.3.2, New lesions")),
    NEW_NO: Rule("RECIST1.1-NEW-NO", "no new lesion", S(EISENHAUER_2009, "section 4.3.2")),
}

# -- reading rules (what a reader may record, applied by the reading session) ---------------------
READING_RULES = {
    "roles-at-baseline": Rule(
        "RECIST1.1-ROLES-AT-BASELINE", "target and non-target lesions are identified at baseline; "
        "a lesion first seen after baseline is a new lesion",
        S(EISENHAUER_2009, "section 3.3 (baseline documentation of target and non-target lesions) "
                           "and section 4.3.2 (new lesions)")),
    "absent-0mm": Rule(
        "RECIST1.1-ABSENT-0MM", "a target lesion that has disappeared is recorded as 0 mm",
        S(EISENHAUER_2009, "Appendix II, Target lesions that become 'too small to measure'")),
    "baseline-measured": Rule(
        "RECIST1.1-BASELINE-MEASURED", "every target lesion is measured at baseline (its longest "
        "diameter; the short axis of a node) before the time points can be assessed",
        S(EISENHAUER_2009, "section 3.3 and section 4.2 (baseline sum of diameters)")),
    "short-axis-perpendicular": Rule(
        "RECIST1.1-SHORT-AXIS-PERPENDICULAR", "a node's short axis is measured perpendicular to "
        "its long axis, in the same plane", S(EISENHAUER_2009, "section 3.1.1, Malignant lymph "
                                                               "nodes")),
    "node-short-axis": Rule(
        "RECIST1.1-NODE-SHORT-AXIS", "a nodal target is measured (and summed) by its short axis",
        S(EISENHAUER_2009, "section 3.1.1 and 4.2")),
}

# -- overall response: Table 1 (target +/- non-target) and Table 2 (non-target only) ----------------
TARGETS = (CR, PR, SD, PD, NE, NONE)
NON_TARGETS = (CR, NON_CR_NON_PD, NE, PD, NONE)
NEW = (NEW_NO, NEW_YES)
NON_PD = any_of(CR, NON_CR_NON_PD, NONE)
NON_PD_OR_NE = any_of(CR, NON_CR_NON_PD, NONE, NE)
MEASURED = any_of(CR, PR, SD, PD, NE)
NT_PRESENT = any_of(CR, NON_CR_NON_PD, NE, PD)
T1 = S(EISENHAUER_2009, "section 4.3.3, Table 1 (target +/- non-target)")
T2 = S(EISENHAUER_2009, "section 4.3.3, Table 2 (non-target only)")


def overall_rows(prefix: str, t1: Source, t2: Source) -> tuple[Row, ...]:
    """The overall-response lines of Tables 1 and 2 (mRECIST uses the same lines)."""
    def w(t: frozenset[str] | None, nt: frozenset[str] | None, new: frozenset[str] | None):
        return {"target": t, "non_target": nt, "new_lesions": new}

    no = any_of(NEW_NO)
    return (
        Row(f"{prefix}-T1-R1", w(any_of(CR), any_of(CR, NONE), no), CR,
            "target CR, non-target CR (or no non-target disease), no new lesion", t1),
        Row(f"{prefix}-T1-R2", w(any_of(CR), any_of(NON_CR_NON_PD), no), PR,
            "target CR, non-target non-CR/non-PD, no new lesion", t1),
        Row(f"{prefix}-T1-R3", w(any_of(CR), any_of(NE), no), PR,
            "target CR, non-target not evaluated, no new lesion", t1),
        Row(f"{prefix}-T1-R4", w(any_of(PR), NON_PD_OR_NE, no), PR,
            "target PR, non-target non-PD or not all evaluated, no new lesion", t1),
        Row(f"{prefix}-T1-R5", w(any_of(SD), NON_PD_OR_NE, no), SD,
            "target SD, non-target non-PD or not all evaluated, no new lesion", t1),
        Row(f"{prefix}-T1-R6", w(any_of(NE), NON_PD_OR_NE, no), NE,
            "target not all evaluated, non-target non-PD, no new lesion", t1),
        Row(f"{prefix}-T1-R7", w(any_of(PD), None, None), PD, "target PD", t1),
        Row(f"{prefix}-T1-R8", w(MEASURED, any_of(PD), None), PD, "non-target PD", t1),
        Row(f"{prefix}-T1-R9", w(MEASURED, None, any_of(NEW_YES)), PD, "new lesion", t1),
        Row(f"{prefix}-T2-R1", w(any_of(NONE), any_of(CR), no), CR,
            "non-target only: CR, no new lesion", t2),
        Row(f"{prefix}-T2-R2", w(any_of(NONE), any_of(NON_CR_NON_PD), no), NON_CR_NON_PD,
            "non-target only: non-CR/non-PD, no new lesion", t2),
        Row(f"{prefix}-T2-R3", w(any_of(NONE), any_of(NE), no), NE,
            "non-target only: not all evaluated, no new lesion", t2),
        Row(f"{prefix}-T2-R4", w(any_of(NONE), any_of(PD), None), PD,
            "non-target only: unequivocal PD", t2),
        Row(f"{prefix}-T2-R5", w(any_of(NONE), NT_PRESENT, any_of(NEW_YES)), PD,
            "non-target only: new lesion", t2),
    )


def overall_table(table_id: str, prefix: str, t1: Source, t2: Source) -> DecisionTable:
    return DecisionTable(
        id=table_id,
        title="Overall time-point response (target, non-target, new lesions)",
        columns=("target", "non_target", "new_lesions"),
        domains={"target": TARGETS, "non_target": NON_TARGETS, "new_lesions": NEW},
        rows=overall_rows(prefix, t1, t2),
        excluded={(NONE, NONE, n): "no disease at baseline: not assessable by RECIST"
                  for n in NEW},
    )


OVERALL = overall_table("RECIST1.1-OVERALL", "RECIST1.1", T1, T2)


# -- measurement selection and ordered decisions (what the engine runs) -----------------------------
_ABSENT, _PROGRESSION = STATUSES.index("absent"), STATUSES.index("progression")


def pd_floor_mm(options: Any, enhancing: np.ndarray) -> np.ndarray:
    """The absolute increase target PD needs: 5 mm, whatever the options."""
    return np.full(len(enhancing), PD_ABSOLUTE.as_float)


def target_measure(g: Any) -> tuple[np.ndarray, np.ndarray]:
    """Each measured target's value: the short axis of a node, else the longest diameter
    (section 4.2); no target follows a viable diameter."""
    return np.where(g.nodal, g.short_mm, g.long_mm), np.zeros(len(g.tp), dtype=bool)


def target_cr(value: np.ndarray, g: Any, follows_viable: np.ndarray) -> np.ndarray:
    """CR of one target: a node below 10 mm short axis, any other lesion gone (0 mm); a target
    that follows its viable diameter needs no enhancement left (0 mm)."""
    return np.where(g.nodal & ~follows_viable, value < NODE_NORMAL.as_float, value == 0)


def non_target_state(g: Any, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each non-target gone (absent, or a node below 10 mm) and progressed (unequivocally)."""
    gone = (status == _ABSENT) | (g.nodal & (g.short_mm < NODE_NORMAL.as_float))
    return gone, status == _PROGRESSION


def small_new_node(new: Any) -> np.ndarray:
    """New lymph nodes with a short axis below 10 mm: normal nodes (section 3.1.1), not new
    disease (RECIST Working Group FAQ 'New lymph node lesions')."""
    if not len(new):
        return np.zeros(0, dtype=bool)
    nodal = new["is_nodal"].to_numpy(dtype=bool, na_value=False)
    return nodal & (new["short_axis_mm"].to_numpy(dtype=float) < NODE_NORMAL.as_float)


def new_lesion_demoted(new: Any, unequivocal: np.ndarray) -> np.ndarray:
    """Unequivocal new lesions RECIST 1.1 counts only as equivocal: a "new" node below 10 mm
    short axis is a normal node (:data:`NODE_NORMAL`)."""
    return unequivocal & small_new_node(new)


def target_decisions(prefix: str, rules: dict[str, Rule]) -> DecisionList:
    """The order in which a target response is decided (first match wins): PD first (even with
    targets missing, once the assessed ones prove it), then NE, CR, PR; SD otherwise."""
    return DecisionList(f"{prefix}-TARGET", "Target response", (
        Decision(rules[NONE], NONE, when=(Fact.NO_TARGETS,)),
        Decision(rules[PD], PD, when=(Fact.SUM_PD,),
                 unless=(Fact.TARGET_MISSING, Fact.NORMAL_NODES_PREVAIL)),
        Decision(rules["PD-proven-despite-missing"], PD, when=(Fact.SUM_PD, Fact.TARGET_MISSING)),
        Decision(rules["PD-reappearance"], PD, when=(Fact.REAPPEARED,),
                 unless=(Fact.TARGET_MISSING,)),
        Decision(rules[NE], NE, when=(Fact.TARGET_MISSING,)),
        Decision(rules[CR], CR, when=(Fact.ALL_TARGETS_CR,)),
        Decision(rules[PR], PR, when=(Fact.SUM_PR,)),
        Decision(rules["PR-sustained"], PR, when=(Fact.PR_EARLIER,)),
        Decision(rules[SD], SD),
    ))


def non_target_decisions(prefix: str, rules: dict[str, Rule]) -> DecisionList:
    """Non-target response: NONE without non-targets, then PD, NE, CR; otherwise non-CR/non-PD."""
    return DecisionList(f"{prefix}-NON-TARGET", "Non-target response", (
        Decision(rules[NONE], NONE, when=(Fact.NO_NON_TARGETS,)),
        Decision(rules[PD], PD, when=(Fact.NON_TARGET_PD,)),
        Decision(rules["PD-reappearance"], PD, when=(Fact.NON_TARGET_REAPPEARED,)),
        Decision(rules[NE], NE, when=(Fact.NON_TARGET_NE,)),
        Decision(rules[CR], CR, when=(Fact.ALL_NON_TARGETS_GONE,), unless=(Fact.MARKERS_RAISED,)),
        Decision(rules[NON_CR_NON_PD], NON_CR_NON_PD),
    ))


def new_lesion_decisions(prefix: str, rules: dict[str, Rule]) -> DecisionList:
    """New lesions: yes when one is unequivocal, equivocal when one is, else no."""
    return DecisionList(f"{prefix}-NEW", "New lesions", (
        Decision(rules[NEW_YES], NEW_YES, when=(Fact.NEW_UNEQUIVOCAL,)),
        Decision(rules["equivocal"], "equivocal", when=(Fact.NEW_EQUIVOCAL,)),
        Decision(rules[NEW_NO], NEW_NO),
    ))


# -- baseline checks: which lesions may be targets (section 3) -----------------------------------
def ids(rows: pd.DataFrame) -> pd.Series:
    return rows["lesion_id"].astype(str)


def mm(values: pd.Series | np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index).astype(float).map("{:g}".format).astype(str)


def _measurable_minimum(t: Any) -> np.ndarray:
    return np.where(t.thickness > THICK_SLICE.as_float, 2 * t.thickness, MEASURABLE.as_float)


def _organs(t: Any) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Each target's organ (all nodes one organ, left and right lung one lung, liver segments the
    liver), targets in it, and its rank there."""
    organ = t.rows["organ"].astype(str).map(normalise_organ).where(~t.nodal, NODES_AS_ONE_ORGAN)
    per_organ = t.rows.groupby([t.read, pd.factorize(organ)[0]], sort=False)
    return organ, per_organ["lesion_id"].transform("size").to_numpy(), per_organ.cumcount().to_numpy()


BASELINE_CHECKS = (
    BaselineCheck(
        NODE_TARGET, 10, lambda t: t.nodal & (t.short < NODE_TARGET.as_float),
        lambda t, m: "node " + ids(t.rows[m]) + ": short axis " + mm(t.rows["short_axis_mm"][m],
                                                                        t.rows.index[m])
        + " mm < 15 mm is not measurable; record it as non-target (10–15 mm) or not at all "
        "(< 10 mm)"),
    BaselineCheck(
        MEASURABLE, 30, lambda t: ~t.nodal & (t.long_axis < _measurable_minimum(t)),
        lambda t, m: "lesion " + ids(t.rows[m]) + ": longest diameter "
        + mm(t.rows["long_axis_mm"][m], t.rows.index[m]) + " mm < "
        + mm(_measurable_minimum(t)[m], t.rows.index[m]) + " mm is not measurable; record it as "
        "non-target"),
    BaselineCheck(
        MAX_TARGETS, 50, lambda t: t.rank >= MAX_TARGETS.as_float,
        lambda t, m: pd.Series(t.n_targets[m], index=t.rows.index[m]).astype(str)
        + " targets for patient " + t.rows["patient_id"][m].astype(str) + ", reader "
        + t.rows["reader_id"][m].astype(str) + "; at most 5 — make " + ids(t.rows[m])
        + " non-target"),
    BaselineCheck(
        MAX_PER_ORGAN, 60, lambda t: _organs(t)[2] >= MAX_PER_ORGAN.as_float,
        lambda t, m: pd.Series(_organs(t)[1][m], index=t.rows.index[m]).astype(str)
        + " targets in " + _organs(t)[0][m] + "; at most 2 per organ — make " + ids(t.rows[m])
        + " non-target"),
)


def _when(rows: pd.DataFrame, mask: np.ndarray) -> pd.Series:
    return " (" + pd.to_datetime(rows["timepoint_date"][mask]).dt.strftime("%Y-%m-%d") + ")"


NEW_LESION_CHECKS = (
    BaselineCheck(
        NODE_NORMAL, 10, lambda t: t.unequivocal & small_new_node(t.rows),
        lambda t, m: "new node " + ids(t.rows[m]) + _when(t.rows, m) + ": short axis "
        + mm(t.rows["short_axis_mm"][m], t.rows.index[m]) + " mm < 10 mm is a normal node; "
        "counted as equivocal (not PD) until it grows"),
)


DEFINITION = CriterionDefinition(
    id=CRITERION, name=NAME, pr_decrease=PR_DECREASE, pd_increase=PD_INCREASE,
    pd_floor_mm=pd_floor_mm, target_measure=target_measure, target_cr=target_cr,
    target_decisions=target_decisions("RECIST1.1", TARGET_RULES),
    non_target_state=non_target_state,
    non_target_decisions=non_target_decisions("RECIST1.1", NON_TARGET_RULES),
    new_lesion_demoted=new_lesion_demoted,
    new_lesion_decisions=new_lesion_decisions("RECIST1.1", NEW_RULES),
    overall=OVERALL,
    baseline_checks=BASELINE_CHECKS,
    new_lesion_checks=NEW_LESION_CHECKS,
)
