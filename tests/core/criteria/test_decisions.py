"""The ordered decision lists each criterion owns, and the engine's array form of them."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from response_tool.criteria import CRITERIA, engine
from response_tool.criteria._tables import Decision, DecisionList, Fact, Rule, Source

CORE = Path(engine.__file__).resolve().parents[1]
LISTS = [(cid, dl) for cid, m in CRITERIA.items() for dl in m.DEFINITION.decision_lists]


@pytest.mark.parametrize("criterion,decisions", LISTS, ids=[dl.id for _, dl in LISTS])
def test_the_engine_decides_every_combination_of_facts_as_the_list_reads(criterion, decisions):
    """Every combination of the facts a list reads: the vectorised kernel picks the same line
    (result and rule id) as reading the list top to bottom."""
    facts = decisions.facts
    combos = list(itertools.product((False, True), repeat=len(facts)))
    arrays = {f: np.array([c[i] for c in combos]) for i, f in enumerate(facts)}
    values = {v: i for i, v in enumerate(sorted({d.then for d in decisions.lines}))}
    result, rule = engine._decide(decisions, arrays, len(combos), values)
    for k, combo in enumerate(combos):
        line = decisions.decide(dict(zip(facts, combo, strict=True)))
        assert (result[k], engine.RULE_IDS[rule[k]]) == (values[line.then], line.rule.id), combo


@pytest.mark.parametrize("criterion,decisions", LISTS, ids=[dl.id for _, dl in LISTS])
def test_every_line_can_decide_and_names_a_sourced_rule(criterion, decisions):
    facts = decisions.facts
    reached = set()
    for combo in itertools.product((False, True), repeat=len(facts)):
        reached.add(decisions.decide(dict(zip(facts, combo, strict=True))).rule.id)
    assert reached == {d.rule.id for d in decisions.lines}  # no line is shadowed by earlier ones
    for d in decisions.lines:
        assert d.rule.id.startswith(criterion.upper())
        assert d.rule.source.citation and d.rule.source.location


def test_a_list_must_end_with_its_default():
    rule = Rule("X-1", "x", Source("paper", "table 1"))
    with pytest.raises(ValueError, match="default"):
        DecisionList("X", "x", (Decision(rule, "SD", when=(Fact.SUM_PR,)),))


def test_targets_decide_pd_before_ne_and_cr_before_pr():
    """The published order: proven PD wins over missing targets; CR is checked before PR."""
    for module in CRITERIA.values():
        order = [d.then for d in module.DEFINITION.target_decisions.lines]
        assert order.index("PD") < order.index("NE") < order.index("CR") < order.index("PR")


def test_no_criterion_name_branch_outside_the_criterion_modules():
    """Only recist11.py / mrecist.py may decide by criterion; everything else asks the registry."""
    name = r"""["'](recist1\.1|mrecist)["']"""
    pattern = re.compile(rf"""(==|!=|\bin\b)\s*\(?\s*{name}|{name}\s*(==|!=|\bin\b|\bnot\s+in\b)""")
    offenders = []
    for path in [*CORE.rglob("*.py"), *(CORE.parent / "plugins").rglob("*.py")]:
        if path.name in ("recist11.py", "mrecist.py", "vocabulary.py"):
            continue
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(CORE.parent)}:{no}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
