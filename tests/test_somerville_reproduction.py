"""Configure the catalog from the consultant's table and reproduce Somerville's 2015 pavement plan.

The file (BL_SEGMENTS_2015) gives each segment its OCI, length and width in feet, functional
class, the planned treatment and its extended cost. The consultant's rule, found by reading the
file (docs/COSTS.md): cost = round(round(length × width / 9, 2 decimals) × rate, to the cent),
with one rate per treatment and class group; the treatment follows OCI thresholds per class
group, except for a few segments chosen by engineering judgement. Groundwork's take-off does the
same: square yards to 0.01, one rounding per line.
"""

from __future__ import annotations

import warnings
from decimal import Decimal
from pathlib import Path

import pyogrio
from sqlmodel import Session, select

from app.costing import catalog
from app.costing.estimate import PavementAsset, estimate, select_treatment
from app.costing.service import AssetRef, price_assets
from app.importers.checks import ImportOptions
from app.importers.service import import_layer
from app.pavement_plan import service
from models.accounts import User
from models.layers import LayerKind, PavementSegment
from tests.conftest import shared_file

PLAN = Path(__file__).parent / "data" / "somerville_2015_plan.csv"
CLASSES = {"RT": "local", "RE": "local", "CO": "collector", "AR": "arterial"}
PLANNED = {"Do Nothing": "dn", "(RM)": "rm", "(PM)": "pm", "(SI)": "si", "(BR)": "br"}
FOOT = 0.3048
# Exact half-cent products that the consultant's spreadsheet rounded down (binary floating point),
# e.g. segment 180: 4,160.50 sq yd × $19.95 = $83,001.975 → file $83,001.97, Groundwork $83,001.98.
HALF_CENT_TIES = {"180", "4", "174.1"}


def read_segments() -> list[dict[str, object]]:
    path = shared_file("somerville-2015-pavement", "BL_SEGMENTS_2015.shp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # measured (M) coordinates; we read attributes only
        meta, _, _, columns = pyogrio.raw.read(path, read_geometry=False)
    names = list(meta["fields"])
    return [{name: columns[j][i] for j, name in enumerate(names)} for i in range(len(columns[0]))]


def test_the_consultants_table_reproduces_each_segments_cost(session: Session, staff: User) -> None:
    catalog.ensure_defaults(session=session)
    version = catalog.import_csv(session=session, actor=staff, text=PLAN.read_text(), note="Somerville 2015 plan")
    draft = catalog.draft_of(session=session, version=version)
    draft.design_engineering_bps = draft.contingency_bps = draft.escalation_bps = 0
    draft.base_year = 2015
    snapshot = catalog.snapshot(session=session, version=catalog.create_version(
        session=session, actor=staff, draft=draft, note="no markups: the plan's costs are construction only"))

    segments = read_segments()
    assert len(segments) == 569
    selected_as_planned = exact = ties = 0
    for row in segments:
        functional_class = CLASSES[str(row["Functional"])[:2]]
        planned = next(code for prefix, code in PLANNED.items() if str(row["PlanActivi"]).startswith(prefix))
        segment = PavementAsset(id=0, length_m=float(row["Length"]) * FOOT, width_m=float(row["PavementWi"]) * FOOT,
                                functional_class=functional_class, pci=float(row["OCI"]))  # type: ignore[arg-type]
        treatment = select_treatment(segment, snapshot.treatments)
        assert treatment is not None
        if treatment.key != f"{planned}_{functional_class}":
            continue  # the consultant chose another treatment than the OCI thresholds give
        selected_as_planned += 1
        ours = estimate([segment], snapshot, scheduled_year=2015).total_cents
        theirs = int((Decimal(str(float(row["ExtendedCo"]))) * 100).to_integral_value())  # type: ignore[arg-type]
        if row["ID"] in HALF_CENT_TIES:
            ties += 1
            assert ours - theirs == 1
            continue
        assert ours == theirs, (row["ID"], ours, theirs)
        exact += 1
    # 563 of 569 segments get the treatment the plan gives them from their OCI alone; all but the
    # three half-cent ties match the file's cost to the cent.
    assert (selected_as_planned, exact, ties) == (563, 560, 3)


def test_the_network_needs_total_is_the_sum_of_per_segment_estimates_with_surveyed_lengths(
        session: Session, staff: User, settings) -> None:  # type: ignore[no-untyped-def]
    """The real file imported as the pavement layer with its surveyed lengths (--map length=Length
    --units feet), priced with the consultant's table: the network needs total is the sum of each
    segment's one-segment estimate, and equals the same estimates made from the file's own numbers."""
    catalog.ensure_defaults(session=session)
    version = catalog.import_csv(session=session, actor=staff, text=PLAN.read_text(), note="Somerville 2015 plan")
    draft = catalog.draft_of(session=session, version=version)
    draft.design_engineering_bps = draft.contingency_bps = draft.escalation_bps = 0
    draft.base_year = 2015
    snapshot = catalog.snapshot(session=session, version=catalog.create_version(
        session=session, actor=staff, draft=draft, note="no markups: the plan's costs are construction only"))
    path = shared_file("somerville-2015-pavement", "BL_SEGMENTS_2015.shp")
    done = import_layer(session=session, source=str(path), actor=None, settings=settings.imports,
                        options=ImportOptions(kind=LayerKind.pavement, units="feet", length_units="feet",
                                              mapping={"length": "Length", "pci": "OCI"}, skip_invalid=True))
    assert (done.report.valid, done.report.rejected_count) == (567, 2)  # two rows have no geometry
    assert done.report.length_differences > 0  # drawn and surveyed lengths differ

    needs = service.needs(session=session, year=2015)
    ids = [i for i in session.exec(select(PavementSegment.id)).all() if i is not None]
    singles = {i: price_assets(session=session, refs=[AssetRef("pavement", i)], scheduled_year=2015).total_cents
               for i in ids}
    assert needs.segments == 567 and needs.unrated == 0 and not needs.unpriced
    assert {i: cents for i, (_key, cents) in needs.per_segment.items()} == singles
    assert needs.total_cents == sum(singles.values())

    imported = set(session.exec(select(PavementSegment.source_id)).all())
    from_file = 0
    for row in (r for r in read_segments() if str(r["ID"]) in imported):
        segment = PavementAsset(id=0, length_m=float(row["Length"]) * FOOT, width_m=float(row["PavementWi"]) * FOOT,
                                functional_class=CLASSES[str(row["Functional"])[:2]], pci=float(row["OCI"]))  # type: ignore[arg-type]
        from_file += estimate([segment], snapshot, scheduled_year=2015).total_cents
    assert needs.total_cents == from_file
