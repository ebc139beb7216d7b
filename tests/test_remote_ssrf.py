"""Import by URL fetches only public addresses: checked after DNS resolution and on every
redirect, and a failed connection says the same whatever answered (no internal port scan)."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlmodel import Session

from app.importers import remote
from app.importers.checks import ImportOptions
from app.importers.report import ImportFailed
from app.importers.service import import_layer
from models.layers import Layer, LayerKind

LIGHTS = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"POLE_ID": "P1", "STATUS": "On"},
     "geometry": {"type": "Point", "coordinates": [-83.38, 33.95]}}]}


def _import(session: Session, settings, source: str, handler=None, **imports):  # type: ignore[no-untyped-def]
    quick = settings.imports.model_copy(update={"http_backoff_s": 0.0, **imports})
    transport = httpx.MockTransport(handler or (lambda request: httpx.Response(200, json=LIGHTS)))
    return import_layer(session=session, source=source, options=ImportOptions(kind=LayerKind.streetlight),
                        actor=None, settings=quick, transport=transport)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    answers: dict[str, list[str]] = {"data.city.gov": ["93.184.215.14"]}
    monkeypatch.setattr(remote, "resolve", lambda host, port: answers.get(host, []))
    return answers


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8201/healthz", "http://127.0.0.1:5432/", "http://localhost.city.gov/lights.geojson",
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/lights.geojson", "http://192.168.1.1/",
    "http://[::1]:8000/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0:8000/", "http://224.0.0.1/",
    "http://100.100.100.200/latest/meta-data/", "http://[fd00:ec2::254]/latest/meta-data/", "http://240.0.0.1/",
])
def test_internal_addresses_are_refused_before_anything_is_sent(session: Session, settings, dns, url):
    dns["localhost.city.gov"] = ["127.0.0.1"]
    sent: list[httpx.Request] = []
    with pytest.raises(ImportFailed, match="imports read only public internet addresses") as refused:
        _import(session, settings, url, lambda request: sent.append(request) or httpx.Response(200, json=LIGHTS))
    assert sent == []
    assert "GROUNDWORK_IMPORTS__PRIVATE_HOSTS_ALLOWED" in str(refused.value)
    assert session.get(Layer, "streetlight") is None


def test_a_name_with_any_private_address_is_refused(session: Session, settings, dns):
    dns["data.city.gov"] = ["93.184.215.14", "10.1.2.3"]  # a rebinding answer
    with pytest.raises(ImportFailed, match="data.city.gov .*is not one"):
        _import(session, settings, "https://data.city.gov/lights.geojson")


def test_a_redirect_to_an_internal_address_is_refused(session: Session, settings, dns):
    dns["metadata.internal"] = ["169.254.169.254"]
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://metadata.internal/latest/meta-data/"})

    with pytest.raises(ImportFailed, match="metadata.internal \\(or a page it redirects to\\) is not one"):
        _import(session, settings, "https://data.city.gov/lights.geojson", handler)
    assert sent == ["https://data.city.gov/lights.geojson"]  # the internal address was never asked
    assert session.get(Layer, "streetlight") is None


def test_a_named_internal_host_can_be_allowed(session: Session, settings, dns):
    dns["gis.city.internal"] = ["10.20.0.7"]
    result = _import(session, settings, "http://gis.city.internal/lights.geojson",
                     private_hosts_allowed=["GIS.city.internal"])
    assert result.layer.feature_count == 1
    with pytest.raises(ImportFailed, match="is not one"):  # only the named host, not its neighbours
        _import(session, settings, "http://10.20.0.8/lights.geojson", private_hosts_allowed=["gis.city.internal"])


@pytest.mark.parametrize("failure", [
    httpx.ConnectError("[Errno 111] Connection refused"),
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
    httpx.ReadError("[Errno 104] Connection reset by peer"),
])
def test_failed_connections_all_read_the_same(session: Session, settings, dns, failure):
    def handler(request: httpx.Request) -> httpx.Response:
        raise type(failure)(str(failure), request=request)

    with pytest.raises(ImportFailed) as failed:
        _import(session, settings, "https://data.city.gov/lights.geojson", handler)
    assert str(failed.value) == "https://data.city.gov/lights.geojson could not be reached (3 attempts)."


def test_an_unknown_host_reads_like_any_other_failure(session: Session, settings, dns):
    with pytest.raises(ImportFailed) as failed:
        _import(session, settings, "https://nowhere.city.gov/lights.geojson")
    assert str(failed.value) == "https://nowhere.city.gov/lights.geojson could not be reached (3 attempts)."


def test_the_real_network_connects_to_the_checked_address(monkeypatch: pytest.MonkeyPatch, tmp_path, settings):
    """Without a test transport the connection goes to the address that was checked, never to a
    second DNS answer: a loopback answer is refused before any socket opens."""
    monkeypatch.setattr(remote, "resolve", lambda host, port: ["127.0.0.1"])
    opened: list[object] = []
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", lambda self, request: opened.append(request))
    with pytest.raises(ImportFailed, match="is not one"):
        remote.fetch("http://data.city.gov/x.geojson", tmp_path, settings=settings.imports)
    assert opened == []
    seen: list[httpx.Request] = []
    monkeypatch.setattr(remote, "resolve", lambda host, port: ["93.184.215.14"])
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request",
                        lambda self, request: seen.append(request) or httpx.Response(200, json=LIGHTS))
    remote.fetch("https://data.city.gov/x.geojson", tmp_path, settings=settings.imports)
    assert seen[0].url.host == "93.184.215.14" and seen[0].headers["host"] == "data.city.gov"
    assert seen[0].extensions["sni_hostname"] == "data.city.gov"
    assert json.loads((tmp_path / "download.geojson").read_text())["features"][0]["properties"]["POLE_ID"] == "P1"


def test_an_arcgis_layer_that_never_ends_is_stopped_at_the_feature_limit(session: Session, settings, dns):
    dns["services.city.gov"] = ["93.184.215.14"]
    layer = "https://services.city.gov/arcgis/rest/services/Lights/FeatureServer/0"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/query"):  # always "more to come"
            return httpx.Response(200, json={"type": "FeatureCollection", "exceededTransferLimit": True,
                                             "features": LIGHTS["features"] * 2})
        return httpx.Response(200, json={"name": "Lights", "maxRecordCount": 2})

    with pytest.raises(ImportFailed, match="has more than 5 features .*it was not read further"):
        _import(session, settings, layer, handler, max_features=5)
    assert session.get(Layer, "streetlight") is None
