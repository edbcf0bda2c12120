"""napari plugin of response-tool: a thin adapter over the pure-Python core.

Registered through npe2 (``napari.yaml``, entry point ``napari.manifest``).
"""

__version__ = "0.1.0"
