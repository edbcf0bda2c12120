"""Every error the core raises on purpose, in one place.

Each is a :class:`ResponseToolError`, which is also a :class:`ValueError`. Messages say what is
wrong, where (file, row, lesion, time point), which limit applies and what to do; the CLI prints
them as one line with exit code 2 and the plugin as a notification. An error about many rows also
carries them as :attr:`ResponseToolError.problems` (structured: line, column, value, message), so
a caller shows the first one or a table of them without re-parsing the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem of an input table: where it is (line in the file, header = 1; column), the
    value found and what to do."""

    line: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        col = f", column {self.column}" if self.column else ""
        val = f" ({self.value!r})" if self.value not in (None, "") else ""
        return f"{where}{col}{val}: {self.message}"


class ResponseToolError(ValueError):
    """Base class of every error the core raises for bad or impossible input."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        #: the individual problems, when the error is about several rows of an input
        self.problems: tuple[Problem, ...] = tuple(problems)

    @property
    def first_problem(self) -> str:
        """The first problem as one line (the message itself when it has none)."""
        return str(self.problems[0]) if self.problems else str(self).splitlines()[0]


class DicomInputError(ResponseToolError):
    """A path, file or series cannot be read as the DICOM input we need."""


class MaskAlignmentError(ResponseToolError):
    """A mask does not overlap or cannot be aligned with the image it belongs to."""


class MeasurementInputError(ResponseToolError):
    """A measurements table (CSV) violates the input contract."""


class AssessmentOptionError(ResponseToolError):
    """An assessment option (confirmation weeks, SD minimum, ...) has an impossible value."""


class BurdenInputError(ResponseToolError):
    """Invalid hepatic-tumour-burden input: masks, labels, slices or category scheme."""


class StoreError(ResponseToolError):
    """The read store cannot do what was asked (unknown lesion, bad value, unreadable file)."""


class AgreementInputError(ResponseToolError):
    """The responses cannot be compared (one reader, absent criterion, no such follow-up…)."""


class ReportInputError(ResponseToolError):
    """The report's inputs are missing, inconsistent or not what `assess` writes."""


class OutputPathError(ResponseToolError):
    """An output cannot be written where asked: it is an input, a duplicate of another output, a
    folder, a link, a device or FIFO, in a folder that does not exist or cannot be written, or an
    existing folder the command did not create. Nothing was written."""


__all__ = ["AgreementInputError", "AssessmentOptionError", "BurdenInputError", "DicomInputError",
           "MaskAlignmentError", "MeasurementInputError", "OutputPathError", "Problem",
           "ReportInputError", "ResponseToolError", "StoreError"]
