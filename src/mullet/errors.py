"""Domain errors of mullet.

Every error a user can cause subclasses :class:`ValueError` and names the field,
the value it got and what is allowed, so that the CLI can print it as one line.
"""

from __future__ import annotations

__all__ = ["ConsensusError", "DataError", "MulletError", "ScenarioError", "SolverError"]


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
