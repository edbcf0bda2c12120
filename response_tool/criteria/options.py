"""The assessment options: the choices the papers leave open, as one explicit object.

Every default comes from a sourced threshold of a criterion module, so the options, the engine
and the generated rules reference (docs/criteria-rules.md) cannot disagree. ``response-tool
assess`` exposes each option as a flag; the BOR table records the ones that shaped it.
"""

from __future__ import annotations

from dataclasses import dataclass

from response_tool.domain.errors import AssessmentOptionError

from . import CRITERIA, best_response, mrecist, recist11


@dataclass(frozen=True)
class AssessmentOptions:
    """Options of an assessment (defaults from the sources named).

    Parameters
    ----------
    criteria
        Which criteria to assess: ``recist1.1`` and/or ``mrecist`` (default both).
    confirm_weeks
        Minimum interval (weeks) between a CR/PR and the assessment confirming it. RECIST 1.1
        section 4.4.2: "no less than 4 weeks" (:data:`best_response.CONFIRM_WEEKS`). Default 4.
    sd_min_weeks
        Minimum time (weeks) from baseline for SD to count as best response. RECIST 1.1 leaves it
        to the protocol ("in general, 6–8 weeks"; :data:`best_response.SD_MIN_WEEKS`). Default 6.
    ne_tolerated
        How many NE assessments may sit between a response and its confirmation
        (:data:`best_response.NE_TOLERATED`, admiralonco's default). Default 1.
    too_small_mm
        Value of a target "too small to measure". RECIST 1.1 Appendix II: 5 mm
        (:data:`recist11.TOO_SMALL_DEFAULT`). Default 5.
    mrecist_pd_min_mm
        Absolute increase over the nadir also required for mRECIST target PD. The 2010 paper has
        none (:data:`mrecist.PD_ABSOLUTE_DEFAULT`): default 0; 5 applies RECIST 1.1's floor.

    The readings the texts leave open (docs/criteria.md, "Readings the texts leave open"):

    normal_nodes_cr_over_sum_pd
        Target nodes that all stay below 10 mm short axis while their sum rises by >= 20 % and
        >= 5 mm: CR (default True; RECIST 1.1 section 4.4.4 records normal node sizes "in order
        not to overstate progression") or PD by the sum (False).
    mrecist_recist_floor_without_enhancement
        Under mRECIST, a read none of whose targets enhanced at baseline is measured as under
        RECIST 1.1, including its 5 mm absolute floor for PD (default True; Lencioni & Llovet 2010:
        non-enhancing targets follow RECIST 1.1); False keeps ``mrecist_pd_min_mm`` for it.
    pr_carried_forward
        A sum that drifts back above −30 % of baseline after a PR, without reaching PD: SD by the
        strict definition (default False, RECIST 1.1 section 4.3.1) or PR carried forward (True,
        the RECIST Working Group FAQ "Managing PR when TP measurements change slightly").
    sd_min_for_non_cr_non_pd
        Whether the SD minimum duration also applies to NON-CR/NON-PD (non-target disease only)
        in the best overall response (default True, as admiralonco; RECIST 1.1 section 4.4.1 names
        SD only).
    equivocal_new_lesion_backdates_pd
        A new lesion first seen equivocal and unequivocal later: the best overall response dates
        the PD from its first observation (default True; RECIST 1.1 section 4.3.2: "progression
        should be declared using the date of the initial scan"), the time points from then on
        counting as PD (rule ``RECIST1.1-BOR-PD-BACKDATED``); False dates it at the time point
        where the lesion became unequivocal. The time-point table is the same either way
        (``new_lesion_first_seen`` gives the date).
    """

    criteria: tuple[str, ...] = tuple(CRITERIA)
    confirm_weeks: float = float(best_response.CONFIRM_WEEKS.value)
    sd_min_weeks: float = float(best_response.SD_MIN_WEEKS.value)
    ne_tolerated: int = int(best_response.NE_TOLERATED.value)
    too_small_mm: float = float(recist11.TOO_SMALL_DEFAULT.value)
    mrecist_pd_min_mm: float = float(mrecist.PD_ABSOLUTE_DEFAULT.value)
    normal_nodes_cr_over_sum_pd: bool = True
    mrecist_recist_floor_without_enhancement: bool = True
    pr_carried_forward: bool = False
    sd_min_for_non_cr_non_pd: bool = True
    equivocal_new_lesion_backdates_pd: bool = True

    def __post_init__(self) -> None:
        unknown = [c for c in self.criteria if c not in CRITERIA]
        if unknown or not self.criteria:
            raise AssessmentOptionError(f"criteria {', '.join(unknown) or '(none)'}: choose from "
                                        f"{', '.join(CRITERIA)}")
        for name in ("confirm_weeks", "sd_min_weeks", "too_small_mm", "mrecist_pd_min_mm"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0 or value != value:
                raise AssessmentOptionError(f"{name} must be a number >= 0, got {value!r}")
        for name in ("normal_nodes_cr_over_sum_pd", "mrecist_recist_floor_without_enhancement",
                     "pr_carried_forward", "sd_min_for_non_cr_non_pd",
                     "equivocal_new_lesion_backdates_pd"):
            if not isinstance(getattr(self, name), bool):
                raise AssessmentOptionError(f"{name} must be true or false, got "
                                            f"{getattr(self, name)!r}")
        if not isinstance(self.ne_tolerated, int) or self.ne_tolerated < 0:
            raise AssessmentOptionError(f"ne_tolerated must be a whole number >= 0, got "
                                        f"{self.ne_tolerated!r}")


__all__ = ["AssessmentOptions"]
