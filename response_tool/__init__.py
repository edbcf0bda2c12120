"""response-tool core: tumour-response assessment for liver metastases (RECIST 1.1, mRECIST, HTB).

This package is pure Python and never imports napari, Qt or magicgui (an import-linter contract in
pyproject.toml enforces it). The napari plugin lives in ``plugins/napari_response_tool``.
"""

from response_tool.domain.errors import ResponseToolError

__version__ = "0.1.0"
__all__ = ["ResponseToolError", "__version__"]
