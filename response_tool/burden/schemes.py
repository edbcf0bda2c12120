"""HTB categories: the published schemes in :data:`SCHEMES` (or custom edges), each with its edge
rule — which bin a value exactly on an edge belongs to — written out and tested.

References
----------
.. [1] Liu et al., Cancer Med 2022: TAE + octreotide LAR in G1/G2 NET liver metastases; HTB
   < 10 / 10–25 / 25–50 / > 50 % from 4–6 slices.
.. [2] Touloupas C et al., Cancers 2021;13:5366: TACE in NET liver metastases; burden estimated
   visually as < 25 / 25–50 / 50–75 / > 75 % of the liver.
.. [3] PROMID (Rinke A et al., J Clin Oncol 2009;27:4656-63): hepatic tumour load ≤ 10 % vs > 10 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from response_tool.domain.errors import BurdenInputError


@dataclass(frozen=True)
class Bin:
    """One category: ``low`` ≤/< value ≤/< ``high`` (percent)."""

    label: str
    low: Fraction
    high: Fraction
    low_closed: bool
    high_closed: bool

    def contains(self, value: Fraction) -> bool:
        above = value >= self.low if self.low_closed else value > self.low
        below = value <= self.high if self.high_closed else value < self.high
        return above and below


@dataclass(frozen=True)
class Scheme:
    """A published set of HTB categories and how values on an edge are assigned."""

    id: str
    bins: tuple[Bin, ...]
    edge_rule: str
    source: str

    def categorize(self, pct: float | Fraction) -> str:
        """The category of ``pct`` (exact comparison: a float is taken at its exact value)."""
        value = Fraction(pct)
        if not 0 <= value <= 100:
            raise BurdenInputError(f"HTB {float(value):g} % is outside 0–100 %")
        for b in self.bins:
            if b.contains(value):
                return b.label
        raise AssertionError(f"{self.id}: bins do not cover {float(value)}")  # tested: they do

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(b.label for b in self.bins)


def _bins(spec: Sequence[tuple[str, int, int, str]]) -> tuple[Bin, ...]:
    """(label, low, high, brackets) with brackets like '[)' or '(]'."""
    return tuple(Bin(label, Fraction(lo), Fraction(hi), br[0] == "[", br[1] == "]")
                 for label, lo, hi, br in spec)


SCHEMES: dict[str, Scheme] = {
    "liu2022": Scheme(
        "liu2022",
        _bins([("<10%", 0, 10, "[)"), ("10-25%", 10, 25, "[)"), ("25-50%", 25, 50, "[]"),
               (">50%", 50, 100, "(]")]),
        "as written: '<10' excludes 10 (10 is '10-25'), '>50' excludes 50 (50 is '25-50'); "
        "the shared edge 25 goes to the higher bin ('25-50')",
        "Liu et al., Cancer Med 2022 (TAE + octreotide LAR in NET liver metastases), HTB from "
        "4-6 slices"),
    "touloupas2021": Scheme(
        "touloupas2021",
        _bins([("<25%", 0, 25, "[)"), ("25-50%", 25, 50, "[)"), ("50-75%", 50, 75, "[]"),
               (">75%", 75, 100, "(]")]),
        "as written: '<25' excludes 25 (25 is '25-50'), '>75' excludes 75 (75 is '50-75'); "
        "the shared edge 50 goes to the higher bin ('50-75')",
        "Touloupas C et al., Cancers 2021;13:5366, burden estimated visually"),
    "promid": Scheme(
        "promid", _bins([("<=10%", 0, 10, "[]"), (">10%", 10, 100, "(]")]),
        "as written: 10 is '<=10%'", "Rinke A et al. J Clin Oncol 2009;27:4656-63 (PROMID)"),
    "involvement50": Scheme(
        "involvement50", _bins([("<=50%", 0, 50, "[]"), (">50%", 50, 100, "(]")]),
        "as written: 50 is '<=50%'", "liver involvement > 50 % (../shared/design/criteria.md §5)"),
}


def custom_scheme(edges: Sequence[float]) -> Scheme:
    """Bins between increasing ``edges`` (percent); a value on an edge goes to the higher bin."""
    values = [Fraction(str(e)) for e in edges]
    if not values or any(not 0 < v < 100 for v in values) or values != sorted(set(values)):
        raise BurdenInputError(f"custom HTB edges {list(edges)}: give increasing numbers between 0 "
                               "and 100, e.g. custom:10,25,50")
    bounds = [Fraction(0), *values, Fraction(100)]
    bins = tuple(Bin(f"{float(lo):g}-{float(hi):g}%", lo, hi, True, i == len(bounds) - 2)
                 for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)))
    text = ",".join(f"{float(v):g}" for v in values)
    return Scheme(f"custom:{text}", bins, "a value on an edge goes to the higher bin", "custom")


def get_scheme(name: str) -> Scheme:
    """A scheme by id (``liu2022``, ``touloupas2021``, ``promid``, ``involvement50``) or
    ``custom:E1,E2,…``."""
    if name in SCHEMES:
        return SCHEMES[name]
    if name.startswith("custom:"):
        try:
            edges = [float(x) for x in name[len("custom:"):].split(",") if x.strip()]
        except ValueError:
            edges = []
        return custom_scheme(edges)
    raise BurdenInputError(f"unknown HTB scheme {name!r}; use one of {', '.join(SCHEMES)} or "
                           "custom:E1,E2,… (percent edges)")


def resolve(scheme: str | Scheme) -> Scheme:
    """``scheme`` itself, or the scheme of that name (:func:`get_scheme`)."""
    return scheme if isinstance(scheme, Scheme) else get_scheme(scheme)


__all__ = ["SCHEMES", "Bin", "Scheme", "custom_scheme", "get_scheme", "resolve"]
