"""Delivery status: one row per ballot project being delivered (after a passed vote), with its
phase, progress, dates and spending against the published estimate (``app.delivery.records``)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import Session

from app.delivery import records
from app.opendata.registry import Dataset, DatasetField, DatasetState, ExportFeature


def _state(session: Session) -> DatasetState | None:
    now = records.state(session=session)
    if now is None:
        return None
    return DatasetState(revision=now.revision, feature_count=now.count, modified=now.modified,
                        source="The city's delivery of the ballot projects, as staff record it")


def _features(session: Session) -> Iterator[ExportFeature]:
    for record in records.records(session=session):
        yield ExportFeature(record.properties(), record.point)


DATASETS = [Dataset(
    id="delivery", title="Delivery of the ballot projects",
    description="Each ballot project after the vote: its phase, progress, planned and actual dates, spending "
                "to date and contract awards against the published estimate. One point per project.",
    geometry_type="Point", order=85, keywords=("delivery", "ballot", "projects", "spending"),
    fields=(DatasetField("proposal_id", "integer", "The proposal's number (its page: /projects/NUMBER)."),
            DatasetField("title", "string", "The project's title."),
            DatasetField("category", "string", "The program category's key."),
            DatasetField("category_name", "string", "The category's name."),
            DatasetField("category_name_es", "string", "The category's name in Spanish (empty: none given)."),
            DatasetField("district", "string", "The council district (empty: citywide)."),
            DatasetField("district_es", "string", "The district's name in Spanish (empty: none given)."),
            DatasetField("tier", "integer", "Funding tier (1 is funded from expected revenue)."),
            DatasetField("phase", "string", "The phase's key: design, procurement, construction or complete as "
                         "first set up; staff may add phases (complete is always the last)."),
            DatasetField("progress", "integer", "Per cent done: the share of milestones reached."),
            DatasetField("late", "boolean", "A milestone or phase end is overdue."),
            DatasetField("planned_start", "date", "The first phase's planned start."),
            DatasetField("planned_end", "date", "The last planned phase end."),
            DatasetField("actual_start", "date", "When work on the project began."),
            DatasetField("actual_end", "date", "When the project was completed."),
            DatasetField("spent_cents", "integer", "Spending to date, in cents."),
            DatasetField("awarded_cents", "integer", "Contract awards to date, in cents (a commitment, not "
                         "spending)."),
            DatasetField("estimate_cents", "integer", "The estimate as published on the ballot list, in cents."),
            DatasetField("estimate_low_cents", "integer", "The low end of the estimate's range, in cents."),
            DatasetField("estimate_high_cents", "integer", "The high end of the estimate's range, in cents."),
            DatasetField("last_update_on", "date", "The date of the newest public update."),
            DatasetField("updated_at", "datetime", "The newest change of any kind.")),
    state=_state, features=_features)]
