"""Rules as data: every table line has an id and a source, every input combination is covered, and
overlapping lines agree."""

from __future__ import annotations

import pytest

from response_tool.criteria import best_response, mrecist, recist11
from response_tool.criteria._tables import DecisionTable

TABLES = [recist11.OVERALL, mrecist.OVERALL, best_response.CONFIRMATION]


@pytest.mark.parametrize("table", TABLES, ids=[t.id for t in TABLES])
def test_every_combination_is_covered_and_overlaps_agree(table: DecisionTable):
    n = 0
    for combo in table.combinations():
        rows = table.matching_rows(combo)
        if combo in table.excluded:
            assert not rows, (combo, [r.id for r in rows])
            continue
        assert rows, f"{table.id}: no line for {combo}"
        assert len({r.then for r in rows}) == 1, (combo, [(r.id, r.then) for r in rows])
        n += 1
    assert n == len(table.compiled())


@pytest.mark.parametrize("table", TABLES, ids=[t.id for t in TABLES])
def test_every_line_is_reachable_and_sourced(table: DecisionTable):
    ids = [r.id for r in table.rows]
    assert len(ids) == len(set(ids))
    used = {table.lookup(c).id for c in table.combinations() if c not in table.excluded}
    for r in table.rows:
        assert r.source.citation and r.source.location and r.description
        # every line decides at least one combination on its own or agrees with the one that does
        assert r.id in used or any(table.lookup(c).then == r.then
                                   for c in table.combinations()
                                   if c not in table.excluded
                                   and r.matches(dict(zip(table.columns, c, strict=True))))


@pytest.mark.parametrize("module", [recist11, mrecist], ids=["recist1.1", "mrecist"])
def test_thresholds_and_rules_carry_sources(module):
    for t in module.THRESHOLDS:
        assert t.id and t.source.citation and t.unit
    for rule in [*module.TARGET_RULES.values(), *module.NON_TARGET_RULES.values(),
                 *module.NEW_RULES.values()]:
        assert rule.id and rule.source.location


def test_published_threshold_values():
    assert (recist11.PR_DECREASE.as_float, recist11.PD_INCREASE.as_float,
            recist11.PD_ABSOLUTE.as_float) == (30, 20, 5)
    assert (recist11.NODE_NORMAL.as_float, recist11.NODE_TARGET.as_float,
            recist11.MEASURABLE.as_float, recist11.TOO_SMALL_DEFAULT.as_float) == (10, 15, 10, 5)
    assert (mrecist.PR_DECREASE.as_float, mrecist.PD_INCREASE.as_float,
            mrecist.PD_ABSOLUTE_DEFAULT.as_float, mrecist.PORTA_HEPATIS_NODE.as_float) == (30, 20, 0, 20)


def test_rules_reference_page_is_generated_from_the_tables():
    from pathlib import Path

    from response_tool.criteria import reference

    page = Path(__file__).resolve().parents[3] / "docs" / "criteria-rules.md"
    assert page.read_text() == reference.markdown(), \
        "docs/criteria-rules.md is stale: run python -m response_tool.criteria.reference > docs/criteria-rules.md"
    text = page.read_text()
    for table in (recist11.OVERALL, mrecist.OVERALL, best_response.CONFIRMATION):
        for row in table.rows:
            assert f"`{row.id}`" in text
