"""Rules as data: thresholds, named rules and decision tables with their published sources.

Each published table becomes a :class:`DecisionTable` with one :class:`Row` per line of the paper's
table; each threshold a :class:`Threshold`. The engine, the tests and the docs all read these
objects, so what the documentation says is what the engine does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

from response_tool.domain.vocabulary import NewLesions, Response

#: Response values, exactly as they appear in the output files (the vocabulary's, as text).
CR, PR, SD, PD, NE = (r.value for r in (Response.CR, Response.PR, Response.SD, Response.PD,
                                        Response.NE))
NON_CR_NON_PD = Response.NON_CR_NON_PD.value
#: "No disease of this kind at baseline" (not NE): no target, or no non-target lesions.
NONE = Response.NONE.value
#: New-lesion states.
NEW_YES, NEW_NO, NEW_EQUIVOCAL = NewLesions.YES.value, NewLesions.NO.value, NewLesions.EQUIVOCAL.value


@dataclass(frozen=True)
class Source:
    """Where a rule or threshold is published."""

    citation: str
    location: str

    def __str__(self) -> str:
        return f"{self.citation}, {self.location}"


EISENHAUER_2009 = "Eisenhauer EA et al. Eur J Cancer 2009;45:228-247 (RECIST 1.1)"
LENCIONI_2010 = "Lencioni R, Llovet JM. Semin Liver Dis 2010;30:52-60 (mRECIST)"


@dataclass(frozen=True)
class Threshold:
    """A numeric limit with its meaning and source. ``value`` is exact (a Fraction)."""

    id: str
    value: Fraction
    unit: str
    description: str
    source: Source

    @property
    def as_float(self) -> float:
        return float(self.value)


@dataclass(frozen=True)
class Rule:
    """A named decision that is not a table line (e.g. 'target PR'), with its source."""

    id: str
    description: str
    source: Source


@dataclass(frozen=True)
class Row:
    """One line of a published decision table.

    ``when`` maps each input column to the set of values this line accepts (``None`` = any value);
    ``then`` is the output.
    """

    id: str
    when: Mapping[str, frozenset[str] | None]
    then: str
    description: str
    source: Source

    def matches(self, key: Mapping[str, str]) -> bool:
        return all(allowed is None or key[col] in allowed for col, allowed in self.when.items())


@dataclass(frozen=True)
class DecisionTable:
    """A published table: its input columns with their domains, and its rows."""

    id: str
    title: str
    columns: tuple[str, ...]
    domains: Mapping[str, tuple[str, ...]]
    rows: tuple[Row, ...]
    #: input combinations outside the table's scope (e.g. no disease at all), with the reason
    excluded: Mapping[tuple[str, ...], str] = field(default_factory=dict)

    def combinations(self) -> Iterable[tuple[str, ...]]:
        return itertools.product(*(self.domains[c] for c in self.columns))

    def matching_rows(self, combo: tuple[str, ...]) -> list[Row]:
        key = dict(zip(self.columns, combo, strict=True))
        return [r for r in self.rows if r.matches(key)]

    def lookup(self, combo: tuple[str, ...]) -> Row:
        """The row deciding ``combo`` (the first matching row; overlapping rows agree — tested)."""
        rows = self.matching_rows(combo)
        if not rows:
            raise KeyError(f"{self.id}: no row for {dict(zip(self.columns, combo, strict=True))}")
        return rows[0]

    def compiled(self) -> dict[tuple[str, ...], Row]:
        """Every covered input combination → its row (what the vectorised engine maps with)."""
        out = {}
        for combo in self.combinations():
            if combo in self.excluded:
                continue
            out[combo] = self.lookup(combo)
        return out


def any_of(*values: str) -> frozenset[str]:
    return frozenset(values)


class Fact(StrEnum):
    """What the engine establishes at each time point before a criterion decides: the words its
    ordered decision lists are written in. Each is computed by a criterion-free kernel of
    :mod:`response_tool.criteria.engine` from the values the criterion selected."""

    NO_TARGETS = "no target lesion at baseline"
    TARGET_MISSING = "a target lesion was not assessed"
    SUM_PD = "sum >= nadir x (1 + PD increase) and sum - nadir >= the absolute floor (and > nadir)"
    REAPPEARED = ("an overall CR was assigned at an earlier time point and the targets no longer "
                  "meet CR")
    ALL_TARGETS_CR = "every target meets its CR condition"
    NORMAL_NODES_PREVAIL = ("every target meets its CR condition and the options let normal "
                            "nodes prevail over a rising sum (normal_nodes_cr_over_sum_pd)")
    PR_EARLIER = ("a target PR or CR was recorded at an earlier time point and the options carry "
                  "PR forward (pr_carried_forward)")
    SUM_PR = "sum <= baseline sum x (1 - PR decrease)"
    NO_NON_TARGETS = "no non-target lesion at baseline"
    NON_TARGET_PD = "a non-target lesion shows unequivocal progression"
    NON_TARGET_NE = "a non-target lesion was not evaluated"
    NON_TARGET_REAPPEARED = ("an overall CR was assigned at an earlier time point and a "
                             "non-target lesion is seen again")
    ALL_NON_TARGETS_GONE = "every non-target lesion has gone"
    MARKERS_RAISED = "the tumour markers are above normal at this time point"
    NEW_UNEQUIVOCAL = "an unequivocal new lesion"
    NEW_EQUIVOCAL = "an equivocal new lesion"


@dataclass(frozen=True)
class Decision:
    """One line of an ordered decision list: ``then`` when every fact of ``when`` holds and none
    of ``unless`` does (and no earlier line matched), recorded as ``rule``."""

    rule: Rule
    then: str
    when: tuple[Fact, ...] = ()
    unless: tuple[Fact, ...] = ()

    @property
    def condition(self) -> str:
        parts = [f.name.lower() for f in self.when] + [f"not {f.name.lower()}" for f in self.unless]
        return " and ".join(parts) or "otherwise"


@dataclass(frozen=True)
class DecisionList:
    """An ordered list of decisions, first match wins; the last line is the default."""

    id: str
    title: str
    lines: tuple[Decision, ...]

    def __post_init__(self) -> None:
        if not self.lines or self.lines[-1].when or self.lines[-1].unless:
            raise ValueError(f"{self.id}: the last line must be the default (no condition)")

    @property
    def facts(self) -> tuple[Fact, ...]:
        """The facts the list reads, in order of first use."""
        return tuple(dict.fromkeys(f for d in self.lines for f in (*d.when, *d.unless)))

    def decide(self, facts: Mapping[Fact, bool]) -> Decision:
        """The line deciding one case (the engine does the same on whole arrays)."""
        for line in self.lines:
            if all(facts[f] for f in line.when) and not any(facts[f] for f in line.unless):
                return line
        raise AssertionError("unreachable: the last line has no condition")


@dataclass(frozen=True)
class BaselineCheck:
    """A check of the baseline targets (may this lesion be a target?): which lesions fail it
    (``fails(targets)`` → mask) and what the reader is told (``message(targets, mask)`` → one
    text per failing lesion). ``order`` places it among every criterion's checks, which is the
    order warnings are listed in."""

    threshold: Threshold
    order: int
    fails: Callable[[Any], Any]
    message: Callable[[Any, Any], Any]


@dataclass(frozen=True, eq=False)  # one object per criterion: hashed by identity
class CriterionDefinition:
    """Everything the engine needs of one criterion: its thresholds, how it selects each
    lesion's value, and its ordered decisions. A criterion module builds one (``DEFINITION``).

    The selection functions take the engine's lesion grid (every baseline lesion × time point,
    as arrays) and return arrays; they are where a criterion's own logic lives (mRECIST's viable
    diameters, effusions, porta-hepatis nodes, new intrahepatic lesions)."""

    id: str
    name: str
    pr_decrease: Threshold
    pd_increase: Threshold
    #: the absolute increase over the nadir target PD also needs, in mm, given the options
    pd_floor_mm: Callable[[Any], Fraction]
    #: (grid) → (value of each measured target in mm, whether it follows its viable diameter)
    target_measure: Callable[[Any], tuple[Any, Any]]
    #: (value mm, grid, follows viable) → whether each target meets its CR condition
    target_cr: Callable[[Any, Any, Any], Any]
    target_decisions: DecisionList
    #: (grid, status) → (each non-target gone, each non-target progressed)
    non_target_state: Callable[[Any, Any], tuple[Any, Any]]
    non_target_decisions: DecisionList
    #: (new-lesion rows, unequivocal) → which unequivocal new lesions count only as equivocal
    new_lesion_demoted: Callable[[Any, Any], Any]
    new_lesion_decisions: DecisionList
    overall: DecisionTable
    #: which baseline lesions may be targets under this criterion
    baseline_checks: tuple[BaselineCheck, ...] = ()
    #: new lesions counted only as equivocal, each told to the reader (same shape: ``fails`` and
    #: ``message`` take the new-lesion rows, :class:`response_tool.criteria.baseline.NewLesionRows`)
    new_lesion_checks: tuple[BaselineCheck, ...] = ()

    @property
    def decision_lists(self) -> tuple[DecisionList, ...]:
        return (self.target_decisions, self.non_target_decisions, self.new_lesion_decisions)
