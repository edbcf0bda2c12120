"""The Reading panel's key bindings as data: what each action is, its default key, the reader's
own keys, and the keys napari already uses (no Qt here; testable without a viewer).

napari dispatches a key pressed on the canvas to the first keymap that has it: the active layer's
(its instance keymap, then its class's), then the viewer's. A key the panel binds on the viewer is
therefore *shadowed* by any layer keymap that has it — the documented ``2``, ``e`` and ``t`` did
nothing while the reader drew, because the shapes layer's vertex-insert, ellipse and path modes
took them. The defaults below avoid every key of napari's default shortcuts
(:data:`napari.utils.shortcuts.default_shortcuts`: shapes, points, image, labels and viewer), of
the user's shortcut settings, and the ``Alt`` + letter mnemonics of napari's menus (``&File``,
``&View``, ``&Layers``, ``&Plugins``, ``&Debug``, ``&Window``, ``&Help``); the panel keys are
``Shift`` + a letter, or ``Alt`` + a digit or an arrow.

The reader may choose other keys in a JSON file (``{"undo": "Ctrl-Z", ...}``) named by
``$RESPONSE_TOOL_KEYS`` (:func:`load_bindings`); a key that collides with napari's is accepted
with a warning saying which napari action will win while that layer is active
(:func:`collisions`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from response_tool.domain.errors import ResponseToolError

#: the environment variable naming the reader's key file (JSON: action → key)
KEYS_ENV = "RESPONSE_TOOL_KEYS"

#: action → (default key, what the panel's help line says of it), in the help line's order
ACTIONS: dict[str, tuple[str, str]] = {
    "new_target": ("Shift-T", "new target (organ, nodal as set)"),
    "next_lesion": ("Shift-N", "next lesion"),
    "previous_lesion": ("Shift-B", "previous lesion"),
    "draw_long": ("Alt-1", "draw long axis"),
    "draw_short": ("Alt-2", "draw short axis"),
    "draw_viable": ("Alt-3", "draw viable (arterial) diameter"),
    "measure": ("Shift-M", "click-to-measure: at a follow-up's predicted position, else the next "
                "click proposes the lines"),
    "accept": ("Shift-Enter", "accept the proposed lines"),
    "predicted": ("Shift-G", "go to the lesion's predicted position"),
    "correct": ("Shift-C", "correct its position: the next click says where it is"),
    "too_small": ("Shift-S", "too small to measure"),
    "disappeared": ("Shift-D", "disappeared"),
    "no_enhancement": ("Shift-E", "no arterial enhancement (viable 0 mm)"),
    "next_date": ("Alt-Right", "next time point"),
    "previous_date": ("Alt-Left", "previous time point"),
    "toggle_phase": ("Alt-A", "arterial / portal-venous (both panes)"),
    "prior": ("Shift-R", "prior: baseline / previous"),
    "hanging": ("Shift-H", "prior | current side by side on / off"),
    "window": ("Shift-W", "next window preset"),
    "undo": ("Shift-Z", "undo"),
    "redo": ("Shift-Y", "redo"),
}
DEFAULT_KEYS: dict[str, str] = {name: key for name, (key, _) in ACTIONS.items()}
#: the Alt + letter mnemonics of napari's menu bar (Qt takes them before the canvas sees them)
MENU_MNEMONICS = tuple(f"Alt+{c}" for c in "FVLPDWH")


def normalise(key: str) -> str:
    """``key`` in napari's canonical spelling (``Shift-T`` → ``Shift+T``); a clear error if it is
    not a key napari can bind."""
    from napari.utils.key_bindings import coerce_keybinding

    hint = "write it like 'Shift-T', 'Alt-1', 'Ctrl-Shift-Z' or 'F5'"
    try:
        canonical = str(coerce_keybinding(key))
    except Exception as exc:  # noqa: BLE001 - napari raises several kinds for a bad key string
        raise ResponseToolError(f"'{key}' is not a key napari can bind ({exc}); {hint}") from exc
    # napari turns an unknown key name into nothing ('Foo' → '', 'Shift-Foo' → 'Shift+')
    if not canonical or canonical.endswith("+"):
        raise ResponseToolError(f"'{key}' is not a key napari can bind; {hint}")
    return canonical


def load_bindings(path: str | Path | None = None,
                  environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The keys of every action: the defaults, with the reader's file (``path``, else
    ``$RESPONSE_TOOL_KEYS``) over them. Refuses, naming the file, an unreadable file, an unknown
    action, a key napari cannot bind and two actions on one key."""
    environ = os.environ if environ is None else environ
    source = path if path is not None else environ.get(KEYS_ENV) or None
    bindings = dict(DEFAULT_KEYS)
    if source is not None:
        bindings.update(_read_file(Path(source)))
    return check_bindings(bindings, where=str(source) if source else "the default keys")


def _read_file(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResponseToolError(f"{path}: cannot read the key file ({exc.strerror}); fix "
                                f"${KEYS_ENV} or remove it to use the default keys") from exc
    except json.JSONDecodeError as exc:
        raise ResponseToolError(f"{path}: not JSON ({exc.msg}, line {exc.lineno}); write "
                                '{"action": "key", ...}, e.g. {"undo": "Ctrl-Z"}') from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ResponseToolError(f'{path}: write one object of action → key strings, e.g. '
                                '{"undo": "Ctrl-Z"}')
    unknown = sorted(set(data) - set(ACTIONS))
    if unknown:
        raise ResponseToolError(f"{path}: unknown action(s) {', '.join(unknown)}; the actions are "
                                f"{', '.join(ACTIONS)}")
    return data


def check_bindings(bindings: Mapping[str, str], where: str = "the keys") -> dict[str, str]:
    """``bindings`` normalised; refuses a key napari cannot bind and one key for two actions."""
    out: dict[str, str] = {}
    by_key: dict[str, str] = {}
    for action, key in bindings.items():
        if action not in ACTIONS:
            raise ResponseToolError(f"{where}: unknown action '{action}'")
        try:
            canonical = normalise(key)
        except ResponseToolError as exc:
            raise ResponseToolError(f"{where}: {action}: {exc}") from exc
        if canonical in by_key:
            raise ResponseToolError(f"{where}: {canonical} is given to both {by_key[canonical]} "
                                    f"and {action}; give each action its own key")
        by_key[canonical] = action
        out[action] = canonical
    return out


def napari_keys() -> dict[str, str]:
    """Every key napari binds by default or by the user's settings → the napari action (layer
    modes of shapes, points, image and labels; viewer actions; menu mnemonics)."""
    from napari.settings import get_settings
    from napari.utils.shortcuts import default_shortcuts

    taken: dict[str, list[str]] = {}

    def add(key: str, action: str) -> None:
        names = taken.setdefault(key, [])
        short = action.removeprefix("napari:")
        if short not in names:
            names.append(short)

    for action, keys in default_shortcuts.items():
        for kb in keys:
            add(str(kb), action)
    try:
        for action, keys in get_settings().shortcuts.shortcuts.items():
            for kb in keys:
                add(normalise(str(kb)), action)
    except Exception:  # noqa: BLE001 - unreadable settings: the defaults still say enough
        pass
    for mnemonic in MENU_MNEMONICS:
        add(mnemonic, "a napari menu")
    return {key: ", ".join(names) for key, names in taken.items()}


def collisions(bindings: Mapping[str, str], taken: Mapping[str, str] | None = None) -> list[str]:
    """One line per panel key that napari also uses (``taken``: key → napari action)."""
    taken = napari_keys() if taken is None else taken
    return [f"{key} ({action}) is also napari's {taken[key]}: napari's wins while that layer is "
            "active" for action, key in bindings.items() if key in taken]


def help_items(bindings: Mapping[str, str], order: Iterable[str] = ACTIONS) -> list[tuple[str, str]]:
    """(key, what it does) for the panel's help, in ``order``."""
    return [(bindings[a], ACTIONS[a][1]) for a in order if a in bindings]
