"""The demo city: a deterministic, fictional city of about 100,000 residents near Athens, Georgia.

``load_demo_city(session=..., seed=42, scale=1.0)`` generates streets, pavement condition,
sidewalks, curb ramps, streetlights, districts, census tracts and address points and stores them
as layers whose source is ``demo:seed=…,scale=…``. ``scale`` multiplies the residents (and the network).
"""

from app.demo.loader import (
    DEFAULT_SEED,
    STEPS,
    DemoCity,
    DemoRefused,
    demo_source,
    foreign_layers,
    has_layers,
    load_demo_city,
)

__all__ = ["DEFAULT_SEED", "STEPS", "DemoCity", "DemoRefused", "demo_source", "foreign_layers", "has_layers",
           "load_demo_city"]
