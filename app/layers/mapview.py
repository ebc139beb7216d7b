"""What the map page needs: the loaded layers with their tiles, the legend, district labels,
the basemap, and the feature to show first. Passed to static/js/map.js as JSON in a data-
attribute (the CSP forbids inline scripts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlmodel import Session, col

from app.geometry import representative_point
from app.i18n import gettext, localized
from app.layers.legend import (
    DISTRICT_OUTLINE,
    LIGHT_STATUSES,
    POVERTY_RAMP,
    RAMP_CONDITIONS,
    SIDEWALK_CONDITIONS,
    SIDEWALK_GAP,
    UNRATED,
    LegendEntry,
    pavement_entries,
)
from app.layers.summary import LoadedLayer, loaded_layers, pavement_scheme
from app.settings import Settings
from models.layers import District, LayerKind

MAX_DISTRICT_LABELS = 500
BACKGROUND = "#e9eeea"
DEFAULT_ON = {LayerKind.pavement, LayerKind.sidewalk, LayerKind.ramp, LayerKind.streetlight, LayerKind.district}


@dataclass(frozen=True)
class Toggle:
    kind: str
    title: str
    count: int
    checked: bool


@dataclass(frozen=True)
class MapView:
    layers: list[LoadedLayer]
    toggles: list[Toggle]
    pavement: list[LegendEntry]
    sidewalk: list[LegendEntry]
    ramps: list[LegendEntry]
    lights: list[LegendEntry]
    poverty: list[tuple[float, str]]
    config: dict[str, Any]

    @property
    def empty(self) -> bool:
        return not self.layers


def _entries(entries: Any) -> list[dict[str, Any]]:
    return [{"key": e.key, "label": gettext(e.label), "colour": e.colour, "dashed": e.dashed, "stroke": e.stroke,
             "radius": e.radius} for e in entries]


def district_labels(*, session: Session) -> list[dict[str, Any]]:
    """A point inside each district for its label (drawn as HTML, so no glyph server is needed)."""
    rows = session.execute(select(col(District.id), col(District.name), col(District.name_es), col(District.code),
                                  col(District.geom))
                           .order_by(col(District.name)).limit(MAX_DISTRICT_LABELS)).all()
    labels = []
    for d_id, name, name_es, code, geom in rows:
        point = representative_point(to_shape(geom))
        labels.append({"id": d_id, "name": localized(name, name_es), "code": code, "lon": point.x, "lat": point.y})
    return labels


def map_view(*, session: Session, settings: Settings, focus_layer: str | None = None,
             focus_id: int | None = None) -> MapView:
    layers = [layer for layer in loaded_layers(session=session) if layer.kind.on_condition_map]
    band_scheme = pavement_scheme(session=session)
    pavement = pavement_entries(band_scheme)
    sidewalk = [*SIDEWALK_CONDITIONS, SIDEWALK_GAP]
    loaded = {layer.kind for layer in layers}
    focus = None
    if focus_layer in {k.value for k in loaded} and focus_id is not None:
        focus = {"layer": focus_layer, "id": focus_id}
    boxes = [layer.bounds for layer in layers if layer.bounds]
    bounds = None
    if boxes:
        bounds = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                  max(b[3] for b in boxes)]
    config = {
        "background": BACKGROUND,
        "basemap": settings.map.basemap_style_url,
        "attribution": settings.map.basemap_attribution,
        "bounds": bounds,
        "focus": focus,
        "layers": [{"id": layer.kind.value, "title": layer.title, "count": layer.feature_count,
                    "revision": layer.revision, "tilejson": f"/tiles/{layer.kind.value}.json",
                    "visible": layer.kind in DEFAULT_ON} for layer in layers],
        "itemUrl": "/ogc/collections/{layer}/items/{id}",
        "tableUrl": "/map/table",
        "styles": {
            "pavement": _entries(pavement),
            "sidewalk": _entries(SIDEWALK_CONDITIONS),
            "gap": _entries([SIDEWALK_GAP])[0],
            "ramp": _entries(RAMP_CONDITIONS),
            "streetlight": _entries(LIGHT_STATUSES),
            "unrated": _entries([UNRATED])[0],
            "district": DISTRICT_OUTLINE,
            "poverty": [list(stop) for stop in POVERTY_RAMP],
        },
        "districts": district_labels(session=session) if LayerKind.district in loaded else [],
    }
    toggles = [Toggle(layer.kind.value, layer.title, layer.feature_count, layer.kind in DEFAULT_ON)
               for layer in layers]
    return MapView(layers, toggles, pavement, sidewalk, list(RAMP_CONDITIONS), list(LIGHT_STATUSES),
                   list(POVERTY_RAMP), config)
