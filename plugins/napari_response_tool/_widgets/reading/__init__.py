"""The Reading panel (:class:`ReadingPanel`): widgets in :mod:`.layout`, annotation layers ↔ the
reading session in :mod:`.annotations`, keys in :mod:`.keys` (which key does what:
:mod:`napari_response_tool._keymap`), prior | current in :mod:`.hanging`, undo / redo and proposals
in :mod:`.station`, the panel itself in :mod:`.panel`."""

from ..._keymap import DEFAULT_KEYS
from .keys import shortcuts
from .panel import ReadingPanel

#: the default keys' help line (the panel shows its current bindings)
SHORTCUTS = shortcuts({a: k.replace("-", "+") for a, k in DEFAULT_KEYS.items()})

__all__ = ["SHORTCUTS", "ReadingPanel"]
