"""The Reading panel's keys: one table of each key, what the help line says of it, and what it calls.

The keys are bound on the viewer (they work while the canvas has the focus); :data:`SHORTCUTS` is
the help line the panel shows (and docs/plugin.md documents).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from response_tool.domain.vocabulary import DiameterKind, Role, Status

from .layout import NO_ENHANCEMENT

if TYPE_CHECKING:
    from .panel import ReadingPanel

Action = Callable[["ReadingPanel"], Any]

#: (keys, what they do, what each calls on the panel) — one row per line of the help
KEYS: tuple[tuple[tuple[str, ...], str, tuple[Action, ...]], ...] = (
    (("t",), "new target (organ, nodal as set)",
     (lambda p: p.add_lesion(Role.TARGET, p.organ_box.currentText(), p.nodal_box.isChecked()),)),
    (("n", "p"), "next / previous lesion",
     (lambda p: p.step_lesion(1), lambda p: p.step_lesion(-1))),
    (("1", "2", "3"), "draw long / short / viable diameter",
     tuple((lambda p, k=kind: p.set_kind(k)) for kind in DiameterKind)),
    (("s",), "too small to measure", (lambda p: p.set_status(Status.TOO_SMALL),)),
    (("d",), "disappeared", (lambda p: p.set_status(Status.ABSENT),)),
    (("e",), "no arterial enhancement (viable 0 mm)", (lambda p: p.set_status(NO_ENHANCEMENT),)),
    (("]", "["), "next / previous time point", (lambda p: p.step_date(1), lambda p: p.step_date(-1))),
    (("a",), "toggle arterial / portal-venous", (lambda p: p.toggle_phase(),)),
)
#: the documented keys, as the panel's help line shows them
SHORTCUTS = tuple((" / ".join(keys), text) for keys, text, _ in KEYS)


def bind_keys(viewer: Any, panel: ReadingPanel) -> None:
    """Bind every key of :data:`KEYS` on ``viewer`` to its action on ``panel``."""
    for keys, _, actions in KEYS:
        for key, action in zip(keys, actions, strict=True):
            viewer.bind_key(key, lambda _viewer, a=action: a(panel), overwrite=True)
