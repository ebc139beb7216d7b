"""Remote sources (GeoJSON URLs, ArcGIS layers) against a mock transport: no network."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlmodel import Session, select

from app.importers.checks import ImportOptions
from app.importers.report import ImportFailed
from app.importers.service import import_layer
from models.layers import Layer, LayerKind, Streetlight

LAYER = "https://services.arcgis.com/abc/arcgis/rest/services/Streetlights/FeatureServer/0"


def _light(i: int) -> dict:  # type: ignore[type-arg]
    return {"type": "Feature", "properties": {"OBJECTID": i, "POLE_ID": f"P{i}", "STATUS": "Out" if i == 3 else "On"},
            "geometry": {"type": "Point", "coordinates": [-83.38 + i * 0.001, 33.95]}}


def _import(session: Session, settings, handler, source: str = LAYER):  # type: ignore[no-untyped-def]
    quick = settings.imports.model_copy(update={"http_backoff_s": 0.0})
    return import_layer(session=session, source=source, options=ImportOptions(kind=LayerKind.streetlight),
                        actor=None, settings=quick, transport=httpx.MockTransport(handler))


def test_arcgis_layer_read_across_three_pages(session: Session, settings):
    offsets = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/query"):
            params = request.url.params
            assert (params["where"], params["outFields"], params["f"]) == ("1=1", "*", "geojson")
            offset, count = int(params["resultOffset"]), int(params["resultRecordCount"])
            offsets.append(offset)
            features = [_light(i) for i in range(offset, min(offset + count, 5))]
            return httpx.Response(200, json={"type": "FeatureCollection", "features": features,
                                              "properties": {"exceededTransferLimit": offset + count < 5}})
        assert request.url.params["f"] == "json"
        return httpx.Response(200, json={"name": "Streetlights", "maxRecordCount": 2})

    result = _import(session, settings, handler)
    assert offsets == [0, 2, 4]
    assert result.layer.feature_count == 5 and result.layer.source == LAYER
    statuses = dict(session.exec(select(Streetlight.pole_id, Streetlight.status)).all())
    assert statuses == {"P0": "working", "P1": "working", "P2": "working", "P3": "out", "P4": "working"}
    assert any("5 features in 3 page(s)" in note for note in result.report.notes)


def test_arcgis_error_payload_is_reported(session: Session, settings):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"error": {"code": 499, "message": "Token Required", "details": []}})

    with pytest.raises(ImportFailed, match="ArcGIS server .* answered with error 499: Token Required"):
        _import(session, settings, handler)
    assert session.get(Layer, "streetlight") is None


def test_url_that_times_out_is_retried_then_reported(session: Session, settings):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url)
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ImportFailed, match=r"did not answer within 30 s \(3 attempts\)"):
        _import(session, settings, handler, "https://data.city.gov/lights.geojson")
    assert len(calls) == 3
    assert session.get(Layer, "streetlight") is None


def test_url_returning_html_is_reported(session: Session, settings):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<!DOCTYPE html><html><body>Sign in</body></html>",
                              headers={"content-type": "text/html; charset=utf-8"})

    with pytest.raises(ImportFailed, match="returned an HTML page, not data"):
        _import(session, settings, handler, "https://data.city.gov/lights.geojson")
    assert session.get(Layer, "streetlight") is None


def test_geojson_url_survives_a_503(session: Session, settings):
    answers = iter([httpx.Response(503, text="busy"),
                    httpx.Response(200, content=json.dumps({"type": "FeatureCollection",
                                                            "features": [_light(1), _light(3)]}).encode())])

    result = _import(session, settings, lambda request: next(answers), "https://data.city.gov/lights.geojson")
    assert result.layer.feature_count == 2


def test_a_download_over_the_limit_is_stopped(session: Session, settings):
    small = settings.model_copy(update={"imports": settings.imports.model_copy(update={"max_upload_mb": 1})})

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([b" " * 600_000] * 10))

    with pytest.raises(ImportFailed, match="sent more than 1 MB; it was not read"):
        _import(session, small, handler, "https://data.city.gov/huge.geojson")
