"""What an import found: rows rejected or warned about (by id and field), notes about the file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

_LISTED = 200  # problems kept in a report; counts are always exact


@dataclass
class RowProblem:
    row: str  # the row's id in its source ("ID 116") or its number ("row 17")
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.row}, {self.field}" if self.field else self.row
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    source: str
    kind: str
    rows_read: int = 0
    valid: int = 0
    crs: str | None = None
    crs_origin: str | None = None
    units: str | None = None
    length_units: str | None = None  # of a mapped surveyed length (app.importers.lengths)
    length_differences: int = 0  # segments whose surveyed length is more than 10 % off the geometry's
    length_worst: list[dict[str, Any]] = field(default_factory=list)  # the largest of those differences
    field_map: dict[str, str] = field(default_factory=dict)
    rejected: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejected_count: int = 0
    warning_count: int = 0

    def reject(self, row: str, message: str, field_name: str | None = None) -> None:
        self.rejected_count += 1
        if len(self.rejected) < _LISTED:
            self.rejected.append(RowProblem(row, message, field_name))

    def warn(self, row: str, message: str, field_name: str | None = None) -> None:
        self.warning_count += 1
        if len(self.warnings) < _LISTED:
            self.warnings.append(RowProblem(row, message, field_name))

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ImportFailed(ValueError):
    """The source cannot be imported as asked; nothing was written. ``report`` says what was found."""

    def __init__(self, message: str, report: ImportReport | None = None) -> None:
        super().__init__(message)
        self.report = report
