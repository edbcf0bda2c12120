"""The Reading panel's keys: what each action of :data:`~napari_response_tool._keymap.ACTIONS`
calls on the panel, and binding them on the viewer.

Which key does what is data (:mod:`napari_response_tool._keymap`: defaults that collide with none
of napari's layer keymaps, the reader's own keys from ``$RESPONSE_TOOL_KEYS``). The keys are bound
on the viewer, so they work whichever layer is active (napari asks the active layer's keymap
first, and none of them has these keys) while the canvas has the focus.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from response_tool.domain.vocabulary import DiameterKind, Role, Status

from ..._keymap import help_items
from .layout import NO_ENHANCEMENT

if TYPE_CHECKING:
    from .panel import ReadingPanel

Action = Callable[["ReadingPanel"], Any]

#: action name → what it calls on the panel
CALLS: dict[str, Action] = {
    "new_target": lambda p: p.add_lesion(Role.TARGET, p.organ_box.currentText(),
                                         p.nodal_box.isChecked()),
    "next_lesion": lambda p: p.step_lesion(1),
    "previous_lesion": lambda p: p.step_lesion(-1),
    "draw_long": lambda p: p.set_kind(DiameterKind.LONG),
    "draw_short": lambda p: p.set_kind(DiameterKind.SHORT),
    "draw_viable": lambda p: p.set_kind(DiameterKind.VIABLE),
    "measure": lambda p: p.start_measure(),
    "accept": lambda p: p.accept_proposal(),
    "predicted": lambda p: p.go_to_predicted(),
    "correct": lambda p: p.correct_position(),
    "too_small": lambda p: p.set_status(Status.TOO_SMALL),
    "disappeared": lambda p: p.set_status(Status.ABSENT),
    "no_enhancement": lambda p: p.set_status(NO_ENHANCEMENT),
    "next_date": lambda p: p.step_date(1),
    "previous_date": lambda p: p.step_date(-1),
    "toggle_phase": lambda p: p.toggle_phase(),
    "prior": lambda p: p.hanging.toggle_prior(),
    "hanging": lambda p: p.hanging.toggle(),
    "window": lambda p: p.hanging.next_window(),
    "undo": lambda p: p.undo(),
    "redo": lambda p: p.redo(),
}


def shortcuts(bindings: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The help line's (key, what it does) pairs for ``bindings``."""
    return tuple(help_items(bindings))


def bind_keys(viewer: Any, panel: ReadingPanel, bindings: Mapping[str, str],
              previous: Mapping[str, str] | None = None) -> None:
    """Bind every action on ``viewer`` to its key in ``bindings`` (unbinding ``previous`` keys)."""
    for key in (previous or {}).values():
        viewer.bind_key(key, None, overwrite=True)
    for action, key in bindings.items():
        call = CALLS[action]
        viewer.bind_key(key, lambda _viewer, c=call: _run(panel, c), overwrite=True)


def _run(panel: ReadingPanel, call: Action) -> None:
    """Run a key's action; a core error goes to the panel's message line, never into napari."""
    from response_tool.domain.errors import ResponseToolError

    try:
        call(panel)
    except ResponseToolError as exc:
        panel.say(str(exc))
