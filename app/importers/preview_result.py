"""A preview worked out by a job in the background (a large file), kept in the job's result as JSON and
shown from it: what ``service.preview`` found and the preview's map, without the checked records."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from app.importers.impact import ImportImpact, ProposalLoss
from app.importers.preview_map import PreviewMap
from app.importers.report import ImportReport, RowProblem
from app.importers.service import Preview


def as_result(preview: Preview, drawn: PreviewMap | None) -> dict[str, Any]:
    return {"preview": {"report": preview.report.as_dict(), "columns": preview.columns,
                        "sample": [{column: _plain(value) for column, value in row.items()} for row in preview.sample],
                        "mapping": preview.mapping, "impact": preview.impact.as_dict() if preview.impact else None,
                        "place_problem": preview.place_problem},
            "map": asdict(drawn) if drawn is not None else None}


def from_result(result: dict[str, Any]) -> tuple[Preview, PreviewMap | None]:
    kept = result["preview"]
    impact = kept["impact"]
    preview = Preview(report_from(kept["report"]), list(kept["columns"]), list(kept["sample"]), dict(kept["mapping"]),
                      impact=ImportImpact(**{**impact, "losing": [ProposalLoss(**loss) for loss in impact["losing"]]})
                      if impact else None, place_problem=kept["place_problem"])
    drawn = result.get("map")
    return preview, PreviewMap(**{**drawn, "points": [tuple(p) for p in drawn["points"]],
                                  "markers": [tuple(m) for m in drawn["markers"]]}) if drawn else None


def report_from(kept: dict[str, Any]) -> ImportReport:
    return ImportReport(**{**kept, "rejected": [RowProblem(**p) for p in kept["rejected"]],
                           "warnings": [RowProblem(**p) for p in kept["warnings"]]})


def _plain(value: Any) -> Any:
    """A value as JSON keeps it (a sample cell is shown, never computed with)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)
