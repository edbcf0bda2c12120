"""docs/bad-inputs.md is generated from the corpus and current."""

from __future__ import annotations

import make_table


def test_the_bad_inputs_page_is_current_and_has_enough_cases():
    assert len(make_table.cases()) >= 60
    assert make_table.PAGE.read_text(encoding="utf-8") == make_table.markdown(), \
        "docs/bad-inputs.md is stale: run .venv/bin/python tests/core/badinput/make_table.py"
