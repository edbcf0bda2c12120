"""What a reading session announces when it changes: typed events its views subscribe to.

A view (the Reading panel's table, the lines on the canvas, the Burden panel) listens to the
session and updates only what an event names — one row, one line, one label — instead of being
redrawn by hand after every action. This is how napari's own models (``EventedModel``, built on
psygnal) and OHIF's ``MeasurementService`` (``MEASUREMENT_ADDED`` / ``_UPDATED`` / ``_REMOVED``)
tell their views; we use psygnal, napari's signal library, so the core stays free of Qt and a
closed view's bound methods are dropped (psygnal holds them weakly).

Who emits what (docs/design.md has the table of who listens):

=====================  ===========================================================================
signal                 emitted
=====================  ===========================================================================
``measurement``        a lesion's measurement at a time point was added, changed or removed
                       (a line drawn or moved, a status, a mark, an accepted proposal, an undo)
``lesions``            lesions were added or removed (or a lesion's role / organ changed)
``time_point``         the session moved to another time point
``responses``          the responses and warnings were recomputed (after any of the above)
``registration``       a follow-up's registration to the baseline was saved (or forgotten)
``reloaded``           the whole read was read again from the store (changed elsewhere)
=====================  ===========================================================================

One reader action emits its data events first, then one ``responses``: a view that shows the
responses redraws them once per action.
"""

from __future__ import annotations

from dataclasses import dataclass

from psygnal import Signal

from response_tool.domain.model import Lesion, Measurement


@dataclass(frozen=True)
class MeasurementChanged:
    """The measurement of ``lesion_id`` at ``date``: ``before`` → ``after`` (None: none)."""

    lesion_id: str
    date: str
    before: Measurement | None
    after: Measurement | None

    @property
    def kind(self) -> str:
        """``added``, ``changed`` or ``removed`` (as OHIF's measurement service says)."""
        if self.before is None:
            return "added"
        return "removed" if self.after is None else "changed"


@dataclass(frozen=True)
class LesionsChanged:
    """Lesions added, removed or changed (their ids)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimePointChanged:
    date: str
    previous: str


@dataclass(frozen=True)
class ResponsesChanged:
    """The responses at ``date`` (the current time point) were recomputed in ``update_ms``."""

    date: str
    update_ms: float


@dataclass(frozen=True)
class RegistrationSaved:
    date: str


class SessionEvents:
    """The signals of one session (see the module docstring)."""

    measurement = Signal(MeasurementChanged)
    lesions = Signal(LesionsChanged)
    time_point = Signal(TimePointChanged)
    responses = Signal(ResponsesChanged)
    registration = Signal(RegistrationSaved)
    reloaded = Signal()


def read_changes(before_lesions: tuple[Lesion, ...], before: tuple[Measurement, ...],
                 after_lesions: tuple[Lesion, ...], after: tuple[Measurement, ...]
                 ) -> tuple[LesionsChanged | None, list[MeasurementChanged]]:
    """What differs between two states of a read (e.g. before and after an undo): the lesions
    added / removed / changed and every measurement that is not the same."""
    old_l = {x.lesion_id: x for x in before_lesions}
    new_l = {x.lesion_id: x for x in after_lesions}
    lesions = LesionsChanged(
        tuple(k for k in new_l if k not in old_l), tuple(k for k in old_l if k not in new_l),
        tuple(k for k in new_l if k in old_l and new_l[k] != old_l[k]))
    old_m = {(m.lesion_id, m.date): m for m in before}
    new_m = {(m.lesion_id, m.date): m for m in after}
    changes = [MeasurementChanged(k[0], k[1], old_m.get(k), new_m.get(k))
               for k in [*old_m, *(k for k in new_m if k not in old_m)]
               if old_m.get(k) != new_m.get(k)]
    return (lesions if lesions.added or lesions.removed or lesions.changed else None), changes


__all__ = ["LesionsChanged", "MeasurementChanged", "RegistrationSaved", "ResponsesChanged",
           "SessionEvents", "TimePointChanged", "read_changes"]
