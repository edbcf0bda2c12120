"""The hanging protocol's decisions, with no Qt and no viewer (tested without napari).

At a follow-up the reader sees the **prior** (the baseline, or the previous study — the reader's
choice) in the left pane and the **current** study in the right one, the way every response read
is done (OHIF's study-comparison protocol, syngo.via, mint Lesion). napari's grid mode places
layers in panes by their position in the layer list, ``stride`` layers per pane, from the bottom
of the list (left pane) upwards, skipping panes whose layers are all hidden — so the panes are
arranged by ordering the layers in two blocks of ``stride`` (:func:`grid_order`).

Also here: which study is the prior (:func:`prior_date`), where the prior is shifted so that the
same anatomy is at the same slice position in both panes (:func:`prior_shift_zyx`), the
orientation letters of a pane (:func:`orientation_letters`), what each pane says about itself
(:func:`pane_text`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

#: the reader's choice of prior
PRIOR_MODES = ("baseline", "previous")


def prior_date(dates: Sequence[str], current: str, mode: str = "baseline") -> str | None:
    """The study shown beside ``current``: the baseline or the previous one (None at baseline)."""
    if mode not in PRIOR_MODES:
        raise ValueError(f"prior mode {mode!r}: use one of {', '.join(PRIOR_MODES)}")
    i = list(dates).index(current)
    if i == 0:
        return None
    return dates[0] if mode == "baseline" else dates[i - 1]


def time_point_tag(dates: Sequence[str], date: str) -> str:
    i = list(dates).index(date)
    return "baseline" if i == 0 else f"follow-up {i}"


@dataclass(frozen=True)
class GridPlan:
    """Layers bottom to top, how many per pane, and how many empty padding layers are needed
    after the left block (when the blocks differ in size and no hidden layer can fill the gap)."""

    order: list[Any]
    stride: int
    padding: int


def grid_order(left: Sequence[T], right: Sequence[T], hidden: Sequence[T],
               others: Sequence[T] = (), pad: Callable[[], T] | None = None) -> GridPlan:
    """Order layers so that ``left`` fills the left pane and ``right`` the right one.

    ``hidden`` are layers that stay hidden (other time points): they fill the shorter block up
    to ``stride`` (a hidden layer occupies a place but no pane), then go above. ``others`` are
    the layers of other panels (visible or not), kept above both blocks. When hidden layers do
    not suffice, ``pad()`` makes an empty hidden layer for each missing place."""
    stride = max(len(left), len(right), 1)
    spare = list(hidden)
    blocks = []
    padding = 0
    for block in (left, right):
        block = list(block)
        while len(block) < stride:
            if spare:
                block.insert(0, spare.pop(0))
            elif pad is not None:
                block.insert(0, pad())
                padding += 1
            else:
                raise ValueError("blocks of different sizes need hidden layers or a pad()")
        blocks.append(block)
    return GridPlan([*blocks[0], *blocks[1], *spare, *others], stride, padding)


def prior_shift_zyx(to_current: Callable[[np.ndarray], np.ndarray] | None,
                    to_prior: Callable[[np.ndarray], np.ndarray] | None,
                    centre_zyx_mm: Sequence[float]) -> np.ndarray:
    """How far to move the prior (world mm, z y x) so that the anatomy at ``centre_zyx_mm`` of the
    baseline is at the same place in both panes.

    ``to_current`` / ``to_prior`` map baseline patient mm (points, n × 3, z y x) onto the current /
    the prior study (a registration's ``to_followup_mm``; None: the study *is* the baseline, or is
    not registered — then the identity)."""
    c = np.asarray(centre_zyx_mm, dtype=float).reshape(1, 3)
    cur = c if to_current is None else np.asarray(to_current(c), dtype=float).reshape(1, 3)
    pri = c if to_prior is None else np.asarray(to_prior(c), dtype=float).reshape(1, 3)
    return (cur - pri)[0]


def shifted_placement(placement: dict[str, Any], shift_zyx: Sequence[float]) -> dict[str, Any]:
    """A layer placement (``translate``/``scale`` or ``affine``) moved by ``shift_zyx`` in world mm."""
    shift = np.asarray(shift_zyx, dtype=float)
    if "affine" in placement:
        affine = np.array(placement["affine"], dtype=float)
        affine[:3, 3] += shift
        return {**placement, "affine": affine}
    translate = np.asarray(placement.get("translate", (0.0, 0.0, 0.0)), dtype=float)
    return {**placement, "translate": tuple(translate + shift)}


#: patient LPS axes → the letter of their positive and negative directions
_LETTERS = (("L", "R"), ("P", "A"), ("S", "I"))


def direction_letters(vector_xyz: Sequence[float], tol: float = 0.2) -> str:
    """The anatomical letters a direction (patient LPS, x y z) points to: (1, 0, 0) → "L";
    an oblique one gets the letters of each component above ``tol``, largest first ("LA")."""
    v = np.asarray(vector_xyz, dtype=float)
    order = np.argsort(-np.abs(v))
    return "".join(_LETTERS[k][0 if v[k] > 0 else 1] for k in order if abs(v[k]) > tol)


def orientation_letters(direction_xyz: Any, placed_in_patient_space: bool = True) -> dict[str, str]:
    """The letters at the left, right, top and bottom edges of an axial pane.

    The plugin places every series in patient space with its direction cosines
    (``_layers.placement_kwargs``), so the canvas shows patient axes — rightwards is +x (the
    patient's left), downwards +y (posterior) — whatever the series' direction. Without that
    placement (``placed_in_patient_space=False``) the canvas shows the index axes, and the
    letters come from the direction's columns (column k: index axis k in x, y, z)."""
    d = np.eye(3) if placed_in_patient_space else np.asarray(direction_xyz, dtype=float)
    right, down = d[:, 0], d[:, 1]
    return {"left": direction_letters(-right), "right": direction_letters(right),
            "top": direction_letters(-down), "bottom": direction_letters(down)}


#: the longest line of a pane's text (characters): the text stays in the left part of the pane,
#: clear of the anterior letter at the top centre
PANE_TEXT_WIDTH = 24


#: the pane text's glyph widths in screen pixels at its 10-point size, by kind of character, and
#: its left padding (measured on the demo's screenshots: "CURRENT  2026-01-12" spans 202 px,
#: "z +40.0 mm · slice 41" 194 px)
PANE_TEXT_PX = {"upper": 13.5, "digit": 10.5, "lower": 9.5, "other": 5.5}
PANE_TEXT_PAD_PX = 10.0
#: the room the top orientation letter needs left of the pane's centre (half its glyph and a gap)
LETTER_ROOM_PX = 20.0


def text_width_px(line: str) -> float:
    """The pane text's estimated width of ``line`` on screen (see :data:`PANE_TEXT_PX`)."""
    def kind(c: str) -> str:
        if c.isupper():
            return "upper"
        if c.isdigit() or c == "+":
            return "digit"
        return "lower" if c.isalpha() else "other"

    return sum(PANE_TEXT_PX[kind(c)] for c in line)


def top_letter_position(text: str, pane_width_px: float) -> str:
    """Where the top orientation letter ("A") goes: the top centre, as on every viewer, unless
    the pane text at the top left would reach it (a narrow pane: two panes on a small screen,
    or a wide dock) — then the top right, still on the top edge."""
    widest = max((text_width_px(line) for line in text.splitlines()), default=0.0)
    right_edge = PANE_TEXT_PAD_PX + widest
    return "top_center" if right_edge + LETTER_ROOM_PX <= pane_width_px / 2 else "top_right"


def _fit(text: str, width: int = PANE_TEXT_WIDTH) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def pane_text(role: str, date: str, tag: str, description: str | None, phase: str | None,
              window: tuple[float, float], z_mm: float, slice_index: int | None) -> str:
    """What a pane says about itself (top left): which study, series and phase, window, where —
    short lines (:data:`PANE_TEXT_WIDTH`), so that the text and the orientation letter at the top
    centre do not meet in a half-width pane."""
    level, width = window
    where = f"z {z_mm:+.1f} mm" + ("" if slice_index is None else f" · slice {slice_index + 1}")
    return "\n".join([f"{role.upper()}  {date}", _fit(f"{tag} · {phase or 'phase ?'}"),
                      _fit(description or "series"), f"W {width:.0f}  L {level:.0f}", where])


def window_of(contrast_limits: Sequence[float]) -> tuple[float, float]:
    """(level, width) of a layer's contrast limits."""
    lo, hi = (float(v) for v in contrast_limits)
    return (lo + hi) / 2.0, hi - lo
