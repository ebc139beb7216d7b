"""The ``delivery`` collection: the ballot projects being delivered, one point each, with the same
properties as the ``delivery`` dataset in /data (``app.delivery.records``). A few dozen features,
so items are read whole and paged here; filters: ``bbox``, ``limit``, ``offset`` and ``phase``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session

from app.delivery import records
from app.i18n import gettext as _
from app.ogc.features import DEFAULT_LIMIT, MAX_LIMIT, BadQuery

ID = "delivery"
TITLE = "Delivery of the ballot projects"
DESCRIPTION = ("Each ballot project after the vote, one point per project: phase, progress, dates and spending "
               "against the published estimate.")
GEOJSON, JSON, HTML = "application/geo+json", "application/json", "text/html"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
PARAMETERS = {"f", "bbox", "limit", "offset", "phase"}


def _link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def collection(*, base: str) -> dict[str, Any]:
    url = f"{base}/ogc/collections/{ID}"
    return {"id": ID, "title": TITLE, "description": DESCRIPTION, "itemType": "feature", "crs": [CRS84],
            "links": [_link(url, "self", JSON, TITLE),
                      _link(f"{base}/projects", "alternate", HTML, f"{TITLE} (HTML)"),
                      _link(f"{url}/items", "items", GEOJSON, f"{TITLE}: features"),
                      _link(f"{base}/data/{ID}.gpkg", "enclosure", "application/geopackage+sqlite3",
                            f"{TITLE} (GeoPackage)")]}


def _feature(record: records.ProjectRecord, base: str) -> dict[str, Any]:
    properties = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in record.properties().items()}
    return {"type": "Feature", "id": record.proposal_id,
            "geometry": {"type": "Point", "coordinates": [record.point.x, record.point.y]} if record.point else None,
            "properties": properties,
            "links": [_link(f"{base}/projects/{record.proposal_id}", "alternate", HTML, record.title)]}


def _number(params: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 0 <= int(raw) <= maximum:
        raise BadQuery(_("{name} must be a whole number from 0 to {maximum}, not {value}.").format(
            name=name, maximum=maximum, value=repr(raw[:40])))
    return int(raw)


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if raw is None:
        return None
    try:
        west, south, east, north = (float(v) for v in raw.split(","))
    except ValueError:
        raise BadQuery(_("bbox must be four numbers: min longitude, min latitude, max longitude, max latitude.")) \
            from None
    if not (west <= east and south <= north):
        raise BadQuery(_("bbox must list the minimum longitude and latitude before the maximum ones."))
    return west, south, east, north


def items(*, session: Session, base: str, params: Mapping[str, str], time_stamp: str) -> dict[str, Any]:
    """A page of the collection (BadQuery for a parameter it does not understand)."""
    unknown = sorted(set(params) - PARAMETERS)
    if unknown:
        raise BadQuery(_("Unknown parameter {name}; this collection filters by bbox and phase.").format(
            name=repr(unknown[0])))
    limit = max(1, _number(params, "limit", DEFAULT_LIMIT, MAX_LIMIT))
    offset = _number(params, "offset", 0, 1_000_000_000)
    box = _bbox(params.get("bbox"))
    phase = params.get("phase")
    matched = [r for r in records.records(session=session)
               if (phase is None or r.phase == phase)
               and (box is None or (r.point is not None and box[0] <= r.point.x <= box[2]
                                    and box[1] <= r.point.y <= box[3]))]
    page = matched[offset:offset + limit]
    url = f"{base}/ogc/collections/{ID}/items"

    def at(start: int) -> str:
        values = {k: v for k, v in params.items() if k not in ("offset", "f")}
        if start:
            values["offset"] = str(start)
        return f"{url}?{urlencode(values)}" if values else url

    links = [_link(at(offset), "self", GEOJSON, "This page"),
             _link(f"{base}/ogc/collections/{ID}", "collection", JSON, TITLE)]
    if offset + len(page) < len(matched):
        links.append(_link(at(offset + len(page)), "next", GEOJSON, "Next page"))
    if offset > 0:
        links.append(_link(at(max(offset - limit, 0)), "prev", GEOJSON, "Previous page"))
    return {"type": "FeatureCollection", "features": [_feature(r, base) for r in page], "links": links,
            "numberMatched": len(matched), "numberReturned": len(page), "timeStamp": time_stamp}


def item(*, session: Session, base: str, feature_id: int) -> dict[str, Any] | None:
    try:
        record = records.record(session=session, proposal_id=feature_id)
    except LookupError:
        return None
    feature = _feature(record, base)
    feature["links"] = [_link(f"{base}/ogc/collections/{ID}/items/{feature_id}", "self", GEOJSON, record.title),
                        *feature["links"], _link(f"{base}/ogc/collections/{ID}", "collection", JSON, TITLE)]
    return feature
