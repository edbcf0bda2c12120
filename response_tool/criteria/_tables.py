"""Rules as data: thresholds, named rules and decision tables with their published sources.

Each published table becomes a :class:`DecisionTable` with one :class:`Row` per line of the paper's
table; each threshold a :class:`Threshold`. The engine, the tests and the docs all read these
objects, so what the documentation says is what the engine does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

#: Response values, exactly as they appear in the output files.
CR, PR, SD, PD, NE = "CR", "PR", "SD", "PD", "NE"
NON_CR_NON_PD = "NON-CR/NON-PD"
#: "No disease of this kind at baseline" (not NE): no target, or no non-target lesions.
NONE = "NONE"
#: New-lesion states.
NEW_YES, NEW_NO, NEW_EQUIVOCAL = "yes", "no", "equivocal"


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
