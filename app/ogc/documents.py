"""The /ogc documents and their links: landing page, conformance, collections, item pages.

Every href is absolute, from the request's base URL, so clients behind any host name follow them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlmodel import Session

from app.layers.specs import SPECS, LayerSpec
from app.ogc import delivery
from app.ogc.features import GeoJSONText, ItemsPage, ItemsText
from models.layers import Layer

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]


def _link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def _self_and_html(url: str, title: str, media_type: str = JSON) -> list[dict[str, str]]:
    separator = "&" if "?" in url else "?"
    return [_link(url, "self", media_type, title),
            _link(f"{url}{separator}f=html", "alternate", HTML, f"{title} (HTML)")]


def landing(*, base: str, site_name: str) -> dict[str, Any]:
    root = f"{base}/ogc"
    return {
        "title": f"{site_name}: condition layers",
        "description": "Pavement, sidewalks, curb ramps, streetlights, districts, census tracts and address "
                       "points as OGC API – Features collections (GeoJSON or HTML).",
        "links": [
            *_self_and_html(root, "This document"),
            _link(f"{base}/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.0",
                  "The API definition"),
            _link(f"{base}/api/docs", "service-doc", HTML, "The API documentation"),
            _link(f"{root}/conformance", "conformance", JSON, "Conformance classes"),
            _link(f"{root}/collections", "data", JSON, "Collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def _layers(session: Session) -> dict[str, Layer]:
    return {layer.kind: layer for layer in session.execute(select(Layer)).scalars()}


def collection(*, spec: LayerSpec, layer: Layer | None, base: str) -> dict[str, Any]:
    url = f"{base}/ogc/collections/{spec.id}"
    document: dict[str, Any] = {
        "id": spec.id,
        "title": spec.title,
        "description": spec.description,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            *_self_and_html(url, spec.title),
            _link(f"{url}/items", "items", GEOJSON, f"{spec.title}: features"),
            _link(f"{url}/items?f=html", "items", HTML, f"{spec.title}: features (HTML)"),
            _link(f"{base}/tiles/{spec.id}.json", "tiles", JSON, f"{spec.title}: vector tiles (TileJSON)"),
        ],
    }
    if layer is not None and None not in (layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat):
        document["extent"] = {"spatial": {"bbox": [[layer.min_lon, layer.min_lat, layer.max_lon, layer.max_lat]],
                                          "crs": CRS84}}
    return document


def collection_for(*, session: Session, spec: LayerSpec, base: str) -> dict[str, Any]:
    return collection(spec=spec, layer=session.get(Layer, spec.id), base=base)


def collections(*, session: Session, base: str) -> dict[str, Any]:
    layers = _layers(session)
    return {
        "links": _self_and_html(f"{base}/ogc/collections", "Collections"),
        "collections": [*(collection(spec=spec, layer=layers.get(spec.id), base=base) for spec in SPECS.values()),
                        delivery.collection(base=base)],
    }


def items_url(*, spec: LayerSpec, base: str, params: dict[str, str], offset: int | None,
              html: bool = False) -> str:
    """The items URL with the same filters, at another offset or in another format."""
    values = {k: v for k, v in params.items() if k not in ("offset", "f")}
    if offset:
        values["offset"] = str(offset)
    if html:
        values["f"] = "html"
    url = f"{base}/ogc/collections/{spec.id}/items"
    return f"{url}?{urlencode(values)}" if values else url


def pager(*, spec: LayerSpec, page: ItemsPage | ItemsText, base: str, params: dict[str, str],
          html: bool) -> dict[str, str]:
    """The next and previous pages' URLs (``next``, ``prev``), where there are such pages."""
    links = {}
    if page.next_offset is not None:
        links["next"] = items_url(spec=spec, base=base, params=params, offset=page.next_offset, html=html)
    if page.previous_offset is not None:
        links["prev"] = items_url(spec=spec, base=base, params=params, offset=page.previous_offset, html=html)
    return links


def items_document(*, spec: LayerSpec, page: ItemsPage, base: str, params: dict[str, str],
                   time_stamp: str) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": page.features,
            **_items_members(spec=spec, page=page, base=base, params=params, time_stamp=time_stamp)}


def _items_members(*, spec: LayerSpec, page: ItemsPage | ItemsText, base: str, params: dict[str, str],
                   time_stamp: str) -> dict[str, Any]:
    """What a page of items has besides its features."""
    offset = page.query.offset
    links = [_link(items_url(spec=spec, base=base, params=params, offset=offset), "self", GEOJSON, "This page"),
             _link(items_url(spec=spec, base=base, params=params, offset=offset, html=True), "alternate", HTML,
                   "This page (HTML)"),
             _link(f"{base}/ogc/collections/{spec.id}", "collection", JSON, spec.title)]
    titles = {"next": "Next page", "prev": "Previous page"}
    for rel, href in pager(spec=spec, page=page, base=base, params=params, html=False).items():
        links.append(_link(href, rel, GEOJSON, titles[rel]))
    return {
        "links": links,
        "numberMatched": page.number_matched,
        "numberReturned": page.number_returned,
        "timeStamp": time_stamp,
    }


def item_document(*, spec: LayerSpec, feature: dict[str, Any], base: str) -> dict[str, Any]:
    url = f"{base}/ogc/collections/{spec.id}/items/{feature['id']}"
    return {**feature, "links": [*_self_and_html(url, f"{spec.title} {feature['id']}", GEOJSON),
                                 _link(f"{base}/ogc/collections/{spec.id}", "collection", JSON, spec.title)]}


_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_CHUNK = 200  # features per piece sent


def _feature_json(feature: dict[str, Any]) -> str:
    rest = {k: v for k, v in feature.items() if k not in ("type", "id", "geometry")}
    geometry = feature["geometry"]
    head = f'{{"type":"Feature","id":{_ENCODER.encode(feature["id"])},"geometry":'
    body = geometry if isinstance(geometry, GeoJSONText) else _ENCODER.encode(geometry)
    return head + body + ("," + _ENCODER.encode(rest)[1:] if rest else "}")


async def encode_items(*, spec: LayerSpec, page: ItemsText, base: str, params: dict[str, str],
                       time_stamp: str) -> AsyncIterator[bytes]:
    """A page of features written by the database, streamed a few hundred at a time: the same
    document as ``encode(items_document(...))``. Asynchronous: each piece is only joined text, so it
    is written on the event loop rather than handed to a worker thread and back."""
    yield b'{"type":"FeatureCollection","features":['
    features = page.features
    for start in range(0, len(features), _CHUNK):
        yield (("," if start else "") + ",".join(features[start:start + _CHUNK])).encode()
    rest = _items_members(spec=spec, page=page, base=base, params=params, time_stamp=time_stamp)
    yield ("]," + _ENCODER.encode(rest)[1:]).encode()


def encode(document: dict[str, Any]) -> Iterator[bytes]:
    """A feature, or a collection streamed a few hundred features at a time; geometries written by
    the database go in as they are."""
    if document.get("type") == "Feature":
        yield _feature_json(document).encode()
        return
    features = document["features"]
    rest = {k: v for k, v in document.items() if k not in ("type", "features")}
    yield b'{"type":"FeatureCollection","features":['
    for start in range(0, len(features), _CHUNK):
        piece = ",".join(_feature_json(f) for f in features[start:start + _CHUNK])
        yield (("," if start else "") + piece).encode()
    yield ("]," + _ENCODER.encode(rest)[1:]).encode()
