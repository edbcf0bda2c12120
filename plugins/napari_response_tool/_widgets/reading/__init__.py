"""The Reading panel (:class:`ReadingPanel`): widgets in :mod:`.layout`, annotation layers ↔ the
reading session in :mod:`.annotations`, keys in :mod:`.keys`, the panel itself in :mod:`.panel`."""

from .keys import SHORTCUTS
from .panel import ReadingPanel

__all__ = ["SHORTCUTS", "ReadingPanel"]
