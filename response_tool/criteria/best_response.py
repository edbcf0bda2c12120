"""Best overall response (BOR), without and with confirmation.

Without confirmation: the best time-point response from baseline until the first PD, in the order
CR > PR > SD > NON-CR/NON-PD > PD > NE; SD and NON-CR/NON-PD count only when recorded at least
``sd_min_weeks`` after baseline, otherwise the BOR is PD if PD followed, else NE (RECIST 1.1
section 4.4.1).

With confirmation (section 4.4.2, Table 3): CR needs a later CR at least ``confirm_weeks`` later,
PR a later PR or CR; between the two at most ``ne_tolerated`` NE assessments may sit and nothing
worse than the response itself. An unconfirmed response is decided by :data:`CONFIRMATION` — the
published table of first response × subsequent response — with ``sd_min_met`` telling whether an
assessment of SD or better was recorded at least ``sd_min_weeks`` after baseline.

References
----------
.. [1] Eisenhauer EA et al. Eur J Cancer 2009;45:228-247, sections 4.4.1-4.4.2 and Table 3.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from response_tool.domain.vocabulary import BEST_FIRST

from ._tables import (
    CR,
    EISENHAUER_2009,
    NE,
    NON_CR_NON_PD,
    PD,
    PR,
    SD,
    DecisionTable,
    Row,
    Rule,
    Source,
    Threshold,
    any_of,
)

T3 = Source(EISENHAUER_2009, "section 4.4.2, Table 3 (best overall response when confirmation of "
                             "CR and PR is required)")
S441 = Source(EISENHAUER_2009, "section 4.4.1 (best overall response)")

CONFIRM_WEEKS = Threshold(
    "RECIST1.1-CONFIRM-4W", Fraction(4), "weeks",
    "a CR or PR is confirmed by a later assessment no less than 4 weeks after it",
    Source(EISENHAUER_2009, "section 4.4.2 (confirmation: 'no less than 4 weeks')"))
SD_MIN_WEEKS = Threshold(
    "RECIST1.1-SD-MIN-6W", Fraction(6), "weeks",
    "SD counts as best response only when recorded at least this long after baseline; RECIST 1.1 "
    "leaves the interval to the protocol ('in general, 6-8 weeks'): 6 by default",
    Source(EISENHAUER_2009, "section 4.4.1 (best overall response: duration of SD)"))
NE_TOLERATED = Threshold(
    "BOR-NE-TOLERATED-1", Fraction(1), "assessments",
    "NE assessments allowed between a response and its confirmation; RECIST 1.1 does not say: "
    "1 by default, as admiralonco's derive_param_confirmed_bor (max_nr_ne = 1)",
    Source("pharmaverse admiralonco (R), derive_param_confirmed_bor()", "argument max_nr_ne"))
THRESHOLDS = (CONFIRM_WEEKS, SD_MIN_WEEKS, NE_TOLERATED)

#: Best-first order of time-point responses for the unconfirmed BOR.
ORDER = tuple(r.value for r in BEST_FIRST)


def _row(first: str, subsequent: str, met: str | None, then: str, text: str) -> Row:
    when = {"first": any_of(first), "subsequent": any_of(subsequent),
            "sd_min_met": None if met is None else any_of(met)}
    suffix = "" if met is None else ("-SDMIN" if met == "yes" else "-NOSDMIN")
    return Row(f"RECIST1.1-T3-{first}-{subsequent}{suffix}", when, then, text, T3)


#: RECIST 1.1 Table 3, one row per line (lines with "if SD minimum met" split in two).
CONFIRMATION = DecisionTable(
    id="RECIST1.1-T3",
    title="Best overall response when confirmation of CR and PR is required",
    columns=("first", "subsequent", "sd_min_met"),
    domains={"first": (CR, PR, NE), "subsequent": (CR, PR, SD, PD, NE), "sd_min_met": ("yes", "no")},
    rows=(
        _row(CR, CR, None, CR, "CR confirmed by CR"),
        _row(CR, PR, "yes", SD, "CR then PR: disease reappeared; SD when the SD minimum was met "
             "(Table 3 footnote: PR after a true CR is PD at that time point)"),
        _row(CR, PR, "no", PD, "CR then PR, SD minimum not met"),
        _row(CR, SD, "yes", SD, "CR then SD, SD minimum met"),
        _row(CR, SD, "no", PD, "CR then SD, SD minimum not met"),
        _row(CR, PD, "yes", SD, "CR then PD, SD minimum met"),
        _row(CR, PD, "no", PD, "CR then PD, SD minimum not met"),
        _row(CR, NE, "yes", SD, "CR then NE, SD minimum met"),
        _row(CR, NE, "no", NE, "CR then NE, SD minimum not met"),
        _row(PR, CR, None, PR, "PR then CR"),
        _row(PR, PR, None, PR, "PR confirmed by PR"),
        _row(PR, SD, None, SD, "PR then SD"),
        _row(PR, PD, "yes", SD, "PR then PD, SD minimum met"),
        _row(PR, PD, "no", PD, "PR then PD, SD minimum not met"),
        _row(PR, NE, "yes", SD, "PR then NE, SD minimum met"),
        _row(PR, NE, "no", NE, "PR then NE, SD minimum not met"),
        _row(NE, NE, None, NE, "NE then NE"),
    ),
    excluded={(NE, s, m): "a first NE followed by an evaluable response: the later response is "
              "the first one that counts" for s in (CR, PR, SD, PD) for m in ("yes", "no")},
)

RULES = {
    "best": Rule("RECIST1.1-BOR-BEST", "best time-point response until the first PD "
                 "(CR > PR > SD > NON-CR/NON-PD > PD > NE)", S441),
    "sd-too-early": Rule("RECIST1.1-BOR-SD-TOO-EARLY", "SD (or NON-CR/NON-PD) only before the SD "
                         "minimum duration: PD if PD followed, else NE", S441),
    "confirmed": Rule("RECIST1.1-BOR-CONFIRMED", "CR/PR confirmed by a later assessment at least the "
                      "confirmation interval later", T3),
    "unconfirmed-last": Rule("RECIST1.1-BOR-UNCONFIRMED-LAST", "a CR/PR with no later assessment "
                             "at least the confirmation interval after it cannot be confirmed: SD "
                             "if the SD minimum was met, else NE", T3),
    "no-response": Rule("RECIST1.1-BOR-NO-RESPONSE", "no CR or PR: SD (or NON-CR/NON-PD) if recorded "
                        "after the SD minimum, else PD if PD followed, else NE", S441),
    "no-assessment": Rule("RECIST1.1-BOR-NO-FOLLOWUP", "no follow-up assessment: NE", S441),
    "pd-backdated": Rule("RECIST1.1-BOR-PD-BACKDATED", "a new lesion first seen equivocal and "
                         "unequivocal later: PD dated from its first observation, the time points "
                         "from then on counting as PD (option equivocal_new_lesion_backdates_pd)",
                         Source(EISENHAUER_2009, "section 4.3.2, New lesions ('if repeat scans "
                                "confirm there is definitely a new lesion, then progression should "
                                "be declared using the date of the initial scan')")),
}


@dataclass(frozen=True)
class BestResponse:
    response: str
    date: dt.date | None
    rule_id: str
    rule_source: str


def _weeks(a: dt.date, b: dt.date) -> float:
    return (b - a).days / 7.0


def _until_first_pd(dates: Sequence[dt.date], responses: Sequence[str]) -> list[tuple[dt.date, str]]:
    out = []
    for d, r in sorted(zip(dates, responses, strict=True)):
        out.append((d, r))
        if r == PD:
            break
    return out


def _sd_like(seq: list[tuple[dt.date, str]], reference: dt.date, sd_min_weeks: float,
             nonpd: bool = True) -> tuple[dt.date, str] | None:
    """First assessment of SD or better (or NON-CR/NON-PD) at least ``sd_min_weeks`` after
    ``reference``."""
    for d, r in seq:
        minimum = sd_min_weeks if (r != NON_CR_NON_PD or nonpd) else 0.0
        if r in (CR, PR, SD, NON_CR_NON_PD) and _weeks(reference, d) >= minimum:
            return d, r
    return None


def _result(response: str, date: dt.date | None, rule: Rule | Row) -> BestResponse:
    return BestResponse(response, date, rule.id, str(rule.source))


def _no_response(seq: list[tuple[dt.date, str]], reference: dt.date,
                 sd_min_weeks: float, nonpd: bool = True) -> BestResponse:
    sd = _sd_like(seq, reference, sd_min_weeks, nonpd)
    if sd is not None:
        response = NON_CR_NON_PD if all(r == NON_CR_NON_PD for _, r in seq if r != NE and r != PD) \
            else SD
        return _result(response, sd[0], RULES["no-response"])
    pd_dates = [d for d, r in seq if r == PD]
    if pd_dates:
        return _result(PD, pd_dates[0], RULES["sd-too-early"] if any(
            r in (SD, NON_CR_NON_PD) for _, r in seq) else RULES["no-response"])
    return _result(NE, None, RULES["sd-too-early"] if any(
        r in (SD, NON_CR_NON_PD) for _, r in seq) else RULES["no-response"])


def best_overall_response(dates: Sequence[dt.date], responses: Sequence[str], reference: dt.date,
                          *, sd_min_weeks: float, sd_min_for_non_cr_non_pd: bool = True
                          ) -> BestResponse:
    """BOR without confirmation from follow-up time-point responses (baseline excluded)."""
    nonpd = sd_min_for_non_cr_non_pd
    seq = _until_first_pd(dates, responses)
    if not seq:
        return _result(NE, None, RULES["no-assessment"])
    for best in (CR, PR):
        hits = [d for d, r in seq if r == best]
        if hits:
            return _result(best, hits[0], RULES["best"])
    return _no_response(seq, reference, sd_min_weeks, nonpd)


def _confirmed(seq: list[tuple[dt.date, str]], i: int, accept: tuple[str, ...],
               confirm_weeks: float, ne_tolerated: int) -> dt.date | None:
    d0 = seq[i][0]
    n_ne = 0
    for d, r in seq[i + 1:]:
        if r == NE:
            n_ne += 1
            if n_ne > ne_tolerated:
                return None
            continue
        if r not in accept:
            return None
        if _weeks(d0, d) >= confirm_weeks:
            return d
    return None


def confirmed_best_overall_response(dates: Sequence[dt.date], responses: Sequence[str],
                                    reference: dt.date, *, confirm_weeks: float, sd_min_weeks: float,
                                    ne_tolerated: int, sd_min_for_non_cr_non_pd: bool = True
                                    ) -> BestResponse:
    """BOR with confirmation of CR and PR (RECIST 1.1 Table 3)."""
    nonpd = sd_min_for_non_cr_non_pd
    seq = _until_first_pd(dates, responses)
    if not seq:
        return _result(NE, None, RULES["no-assessment"])
    for i, (d, r) in enumerate(seq):
        if r == CR and _confirmed(seq, i, (CR,), confirm_weeks, ne_tolerated):
            return _result(CR, d, RULES["confirmed"])
    for i, (d, r) in enumerate(seq):
        if r == PR and _confirmed(seq, i, (PR, CR), confirm_weeks, ne_tolerated):
            return _result(PR, d, RULES["confirmed"])
    first = next((k for k, (_, r) in enumerate(seq) if r in (CR, PR)), None)
    if first is None:
        return _no_response(seq, reference, sd_min_weeks, nonpd)
    d_first, r_first = seq[first]
    # the assessment that follows the response: skip CR/PR too early to confirm it
    later = [(d, r) for d, r in seq[first + 1:]
             if not (r in (CR, PR) and _weeks(d_first, d) < confirm_weeks)]
    met = "yes" if _sd_like(seq, reference, sd_min_weeks, nonpd) else "no"
    if not later:
        sd = _sd_like(seq, reference, sd_min_weeks, nonpd)
        return _result(SD if met == "yes" else NE, sd[0] if sd else None, RULES["unconfirmed-last"])
    subsequent = later[0][1] if later[0][1] in (CR, PR, SD, PD, NE) else SD
    row = CONFIRMATION.lookup((r_first, subsequent, met))
    date = {SD: (_sd_like(seq, reference, sd_min_weeks, nonpd) or (None,))[0],
            PD: next((d for d, r in seq if r == PD), None)}.get(row.then)
    if row.then == PD and date is None:  # PD because the response was not sustained
        date = later[0][0]
    return _result(row.then, date, row)
