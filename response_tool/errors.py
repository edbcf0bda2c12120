"""Typed exceptions of the core.

Every exception the core raises on purpose is a :class:`ResponseToolError`, which is also a
:class:`ValueError`. Messages say what is wrong, where (file, row, lesion, time point), which limit
applies and what to do. The CLI turns them into one-line messages and exit code 2.
"""

from __future__ import annotations


class ResponseToolError(ValueError):
    """Base class of every error the core raises for bad or impossible input."""


class DicomInputError(ResponseToolError):
    """A path, file or series cannot be read as the DICOM input we need."""


class MaskAlignmentError(ResponseToolError):
    """A mask does not overlap or cannot be aligned with the image it belongs to."""


class MeasurementInputError(ResponseToolError):
    """A measurements table (CSV) violates the input contract."""


class ProtocolOptionError(ResponseToolError):
    """An assessment option (confirmation weeks, SD minimum, ...) has an impossible value."""


class BurdenInputError(ResponseToolError):
    """Invalid hepatic-tumour-burden input: masks, labels, slices or category scheme."""
