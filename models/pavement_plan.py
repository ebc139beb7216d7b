"""The pavement plan: deterioration-curve versions, kept surveys, and saved budget scenarios.

- ``CurveVersion``: one row per version of the deterioration curves (ρ, α, β per functional class)
  and the treatments' effects (reset to a PCI, or points added). Versions never change once
  written; editing or fitting writes the next version and makes it current (who, when, why).
- ``SurveyObservation``: a segment's PCI on a survey date, kept by its source key when staff keep a
  survey (before a re-import replaces it); pairs of observations of the same key fit the curves.
- ``PlanScenario``: a named budget scenario staff saved, with its inputs and its result by year as
  computed when saved (money in integer cents), shown to the public.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import JSONType, UTCDateTime, utcnow


class CurveVersion(SQLModel, table=True):
    __tablename__ = "pavement_curve_version"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    note: str = Field(default="", max_length=2000, description="Why this version was made.")
    is_current: bool = Field(default=False, index=True)
    curves: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType,
                                   description="{class: {rho, alpha, beta}}")
    effects: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType,
                                    description="{treatment key: {kind: reset|add, value}}")
    fit: dict[str, Any] | None = Field(default=None, sa_type=JSONType,
                                       description="When fitted: per class, observations and error.")


class SurveyObservation(SQLModel, table=True):
    __tablename__ = "pavement_survey_observation"
    __table_args__ = (UniqueConstraint("source_id", "survey_date"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(max_length=120, index=True)
    functional_class: str = Field(default="local", max_length=40)
    survey_date: date
    pci: float = Field(ge=0, le=100)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")


class PlanScenario(SQLModel, table=True):
    __tablename__ = "pavement_plan_scenario"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    kind: str = Field(max_length=20, description="budget (a yearly budget) or target (a target PCI)")
    policy: str = Field(max_length=30)
    first_year: int
    years: int
    yearly_budget_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    target_pci: float | None = None
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType,
                                   description="By year: PCI, backlog, spending; versions used.")
