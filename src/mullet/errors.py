"""Domain errors of mullet.

Every error a user can cause subclasses :class:`ValueError` and names the field,
the value it got and what is allowed, so that the CLI can print it as one line.
"""

from __future__ import annotations

__all__ = ["ConsensusError", "DataError", "MulletError", "PlausibilityWarning", "ScenarioError", "SolverError", "warn_implausible"]

import warnings


class MulletError(ValueError):
    """Base class of every domain error raised by mullet."""


class ConsensusError(MulletError):
    """A value outside what Bitcoin's consensus rules allow (bad compact bits, negative height)."""


class DataError(MulletError):
    """A data file that does not meet its schema: names the file, the row and the column."""

    def __init__(self, source: str, message: str, *, row: int | str | None = None, column: str | None = None):
        where = source
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")
        self.source = source
        self.row = row
        self.column = column


class ScenarioError(MulletError):
    """An invalid scenario or parameter: names the field, the value and the allowed range."""


class SolverError(MulletError):
    """The optimiser did not reach an optimal solution (infeasible, unbounded, time limit)."""


class PlausibilityWarning(UserWarning):
    """A value that is allowed but outside physical or historical ranges (likely a unit or typing mistake).

    The computation goes on; the command line prints each as one ``warning:`` line on stderr
    and the dashboard adds it to the run's notes.
    """


def warn_implausible(message: str) -> None:
    """Emit a :class:`PlausibilityWarning` naming the field, the value and the usual range."""
    warnings.warn(message, PlausibilityWarning, stacklevel=3)
