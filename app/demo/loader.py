"""Loading the demo city: generate every layer from one seed and store each with ``write_layer``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from app.demo.addresses import address_records
from app.demo.boundaries import boundary_records
from app.demo.city import make_plan
from app.demo.lights import light_records
from app.demo.pavement import pavement_records
from app.demo.program import seed_program
from app.demo.ramps import ramp_records
from app.demo.sidewalks import sidewalk_records
from app.demo.streets import build_network
from app.layers.store import FeatureRecord, write_layer
from models.accounts import User
from models.layers import Layer, LayerKind

DEFAULT_SEED = 42
DEMO_PREFIX = "demo:"
STEPS = ("Laying out the streets", "Generating the assets", "Districts", "Census tracts", "Pavement",
         "Sidewalks", "Curb ramps", "Streetlights", "Address points", "Program")
_ORDER = (LayerKind.district, LayerKind.tract, LayerKind.pavement, LayerKind.sidewalk, LayerKind.ramp,
          LayerKind.streetlight, LayerKind.address)  # boundaries first: the rest find their district and tract


class DemoRefused(ValueError):
    """The database holds real data that loading the demo would replace."""


@dataclass
class DemoCity:
    source: str
    counts: dict[LayerKind, int] = field(default_factory=dict)
    program_written: bool = False  # False when a program already existed (it is left alone)
    seconds: dict[str, float] = field(default_factory=dict)


def demo_source(seed: int, scale: float) -> str:
    return f"{DEMO_PREFIX}seed={seed},scale={scale:g}"


def has_layers(*, session: Session) -> bool:
    """Whether any layer holds features (demo or imported)."""
    return session.exec(select(Layer.kind).where(Layer.feature_count > 0).limit(1)).first() is not None


def foreign_layers(*, session: Session) -> list[Layer]:
    """Layers holding data that did not come from the demo (an import)."""
    layers = session.exec(select(Layer).where(Layer.feature_count > 0).order_by(Layer.kind)).all()
    return [layer for layer in layers if not layer.source.startswith(DEMO_PREFIX)]


def load_demo_city(*, session: Session, seed: int = DEFAULT_SEED, scale: float = 1.0, force: bool = False,
                   actor: User | None = None, progress: Callable[[str], None] | None = None,
                   today: date | None = None) -> DemoCity:
    """Replace every layer with the generated city. The same seed and scale give the same rows.

    Also seeds the demo program (open for proposals on ``today``) and the default cost catalog
    when the database has no program yet.

    Refuses (``DemoRefused``, nothing written) when imported layers would be replaced, unless ``force``.
    The whole city is generated before anything is written; then each layer is written atomically by
    ``write_layer``.
    """
    if not force:
        foreign = foreign_layers(session=session)
        if foreign:
            listed = ", ".join(f"{layer.title} (from {layer.source or 'an import'})" for layer in foreign)
            raise DemoRefused(f"The database already holds imported data: {listed}. Loading the demo city would "
                              "replace it; use --force to do so anyway.")
    plan = make_plan(seed, scale)
    city = DemoCity(source=demo_source(seed, scale))
    clock = time.perf_counter()

    def step(label: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        city.seconds[label] = round(now - clock, 2)
        clock = now
        if progress:
            progress(label)

    network = build_network(plan)
    step(STEPS[0])
    districts, tracts = boundary_records(plan)
    records: dict[LayerKind, list[FeatureRecord]] = {
        LayerKind.district: districts, LayerKind.tract: tracts,
        LayerKind.pavement: pavement_records(plan, network), LayerKind.sidewalk: sidewalk_records(plan, network),
        LayerKind.ramp: ramp_records(plan, network), LayerKind.streetlight: light_records(plan, network),
        LayerKind.address: address_records(plan, network)}
    step(STEPS[1])
    for label, kind in zip(STEPS[2:], _ORDER, strict=False):
        # the kind's usual title (not "… demo"): an import replacing the layer later keeps the title
        layer = write_layer(session=session, kind=kind, records=records.pop(kind), source=city.source, actor=actor,
                            title=kind.title, report={"generated": True, "seed": seed, "scale": scale})
        city.counts[kind] = layer.feature_count
        step(label)
    city.program_written = seed_program(session=session, district_codes=[str(d.fields["code"]) for d in districts],
                                        today=today or date.today(), actor=actor)
    step(STEPS[-1])
    return city
