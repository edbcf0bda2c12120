"""The Reading panel's one-shot canvas click (``_widgets/reading/clicks.py``): one click does
one armed action — click-to-measure's seed or a position correction, never both."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("napari")


def _press(viewer, position):
    event = SimpleNamespace(position=position)
    for callback in list(viewer.mouse_drag_callbacks):
        callback(viewer, event)


@pytest.mark.parametrize("armed,then,called", [
    (["measure"], None, ["measure"]),
    (["measure", "correct"], None, ["correct"]),  # the later one wins, alone
    (["correct", "measure"], None, ["measure"]),
    (["measure"], "measure", []),                 # disarmed by name
    (["measure"], "correct", ["measure"]),        # another name: still armed
    ([], None, []),
])
def test_one_click_does_one_armed_action(armed, then, called):
    from napari_response_tool._widgets.reading.clicks import NextClick

    viewer = SimpleNamespace(mouse_drag_callbacks=[])
    click = NextClick(viewer)
    seen = []
    for name in armed:
        click.arm(name, lambda p, name=name: seen.append((name, p.tolist())))
    if then is not None:
        click.disarm(then)
    _press(viewer, (1.0, 2.0, 3.0))
    assert [n for n, _ in seen] == called
    assert all(p == [1.0, 2.0, 3.0] for _, p in seen)
    assert click.armed is None or not called
    _press(viewer, (4.0, 5.0, 6.0))  # one shot: the next click does nothing more
    assert len(seen) == len(called)
    assert len(viewer.mouse_drag_callbacks) == (1 if armed else 0)
