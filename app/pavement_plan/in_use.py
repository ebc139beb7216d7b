"""The deterioration curves in use, read with nothing but the model (so the impact model, triage
scoring and scenario comparison can import it without the plan's heavier modules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from app.impact.deterioration import CURVES, Curve
from models.pavement_plan import CurveVersion


def current_version(*, session: Session) -> CurveVersion | None:
    return session.exec(select(CurveVersion).where(col(CurveVersion.is_current))).first()


def parse_curves(data: Mapping[str, Any]) -> dict[str, Curve]:
    return {k: Curve(float(v["rho"]), float(v["alpha"]), float(v["beta"])) for k, v in data.items()}


def impact_curves(*, session: Session) -> dict[str, Curve]:
    """The city's current curve version, else Groundwork's defaults."""
    version = current_version(session=session)
    return parse_curves(version.curves) if version is not None else dict(CURVES)
