"""Remote sources over http(s): a GeoJSON document, or an ArcGIS FeatureServer/MapServer layer
(the layer behind most US open-data portals, e.g. ArcGIS Hub), read page by page.

Every request has the configured timeout and is retried with backoff on network errors and
5xx/429 answers. HTML pages and ArcGIS error payloads (``{"error": {...}}``, sent with HTTP 200)
are reported as such. The result is saved as a GeoJSON file for the file reader.

Only public addresses are fetched: every request (the first and each redirect) resolves its host
and is refused when any address is loopback, private, link-local (cloud metadata), multicast or
reserved, unless the host is named in ``imports.private_hosts_allowed``; the connection then goes
to the address that was checked (no second lookup to rebind). A failed connection is reported in
one message whatever the cause, so the importer does not tell which internal ports answer.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from app.importers.report import ImportFailed
from app.settings import ImportSettings

ARCGIS_LAYER = re.compile(r"^(?P<layer>.+/(?:FeatureServer|MapServer)/\d+)(?:/query)?/?$", re.IGNORECASE)
_RETRY_STATUS = {429, 500, 502, 503, 504}
Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the operating system's resolver)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


resolve: Resolver = system_resolver  # tests put a fake resolver here


class AddressRefused(Exception):
    """The host resolves to an address imports may not fetch."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_link_local)


class _PublicOnly(httpx.BaseTransport):
    """Checks each request's host (redirects included) before it is sent; with the real network,
    connects to the checked address so a second DNS answer cannot point elsewhere."""

    def __init__(self, inner: httpx.BaseTransport, *, allowed_hosts: list[str], pin: bool) -> None:
        self.inner, self.pin = inner, pin
        self.allowed = {host.strip().lower().rstrip(".") for host in allowed_hosts}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.lower().rstrip(".")
        if request.url.scheme not in ("http", "https"):
            raise AddressRefused(host)
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            addresses = resolve(host, port)
        if not addresses:
            raise httpx.ConnectError("no address", request=request)
        if host not in self.allowed and not all(is_public(a) for a in addresses):
            raise AddressRefused(host)
        if self.pin and addresses[0] != host:
            if request.url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
            request.url = request.url.copy_with(host=addresses[0])
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def fetch(url: str, directory: Path, *, settings: ImportSettings,
          transport: httpx.BaseTransport | None = None) -> tuple[Path, list[str]]:
    """Download ``url`` into ``directory`` as GeoJSON; returns the file and notes for the report."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "download.geojson"
    timeout = httpx.Timeout(settings.http_timeout_s)
    guarded = _PublicOnly(transport or httpx.HTTPTransport(), allowed_hosts=settings.private_hosts_allowed,
                          pin=transport is None)
    with httpx.Client(transport=guarded, timeout=timeout, follow_redirects=True, max_redirects=5,
                      headers={"User-Agent": "Groundwork importer"}) as client:
        match = ARCGIS_LAYER.match(url.split("?", 1)[0])
        if match:
            features, notes = _arcgis_features(client, match.group("layer"), url, settings)
            document: dict[str, Any] = {"type": "FeatureCollection", "features": features}
        else:
            document, notes = _get_json(client, url, settings), []
            if document.get("type") not in ("FeatureCollection", "Feature"):
                raise ImportFailed(f"{url} returned JSON that is not GeoJSON (no FeatureCollection).")
    with target.open("w", encoding="utf-8") as out:
        json.dump(document, out)
    return target, notes


def _arcgis_features(client: httpx.Client, layer_url: str, url: str,
                     settings: ImportSettings) -> tuple[list[dict[str, Any]], list[str]]:
    info = _get_json(client, layer_url, settings, params={"f": "json"})
    max_records = int(info.get("maxRecordCount") or settings.arcgis_page_size)
    page_size = max(1, min(settings.arcgis_page_size, max_records))
    features: list[dict[str, Any]] = []
    pages = 0
    while True:
        params = {"where": "1=1", "outFields": "*", "f": "geojson", "outSR": "4326", "returnGeometry": "true",
                  "resultOffset": str(len(features)), "resultRecordCount": str(page_size)}
        page = _get_json(client, f"{layer_url}/query", settings, params=params)
        batch = page.get("features") or []
        features.extend(batch)
        pages += 1
        if len(features) > settings.max_features:
            raise ImportFailed(f"{layer_url} has more than {settings.max_features:,} features (the limit, "
                               "GROUNDWORK_IMPORTS__MAX_FEATURES); it was not read further. Nothing was imported.")
        more = page.get("exceededTransferLimit") or (page.get("properties") or {}).get("exceededTransferLimit")
        if not batch or (not more and len(batch) < page_size):
            break
    name = info.get("name") or layer_url.rsplit("/", 2)[-2]
    return features, [f"ArcGIS layer {name!r}: {len(features)} features in {pages} page(s) of up to {page_size}."]


def _get_json(client: httpx.Client, url: str, settings: ImportSettings,
              params: dict[str, str] | None = None) -> dict[str, Any]:
    status, content_type, body = _get(client, url, settings, params)
    head = body[:512].lstrip().lower()
    if "html" in content_type or head.startswith((b"<!doctype html", b"<html")):
        raise ImportFailed(f"{url} returned an HTML page, not data (HTTP {status}); check the address — it should "
                           "point at a GeoJSON file or an ArcGIS layer (…/FeatureServer/0).")
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        where = f" at line {error.lineno}, column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        raise ImportFailed(f"{url} did not return valid JSON{where} (HTTP {status}).") from error
    if not isinstance(document, dict):
        raise ImportFailed(f"{url} returned JSON that is not an object.")
    failure = document.get("error")
    if isinstance(failure, dict):
        details = "; ".join(str(d) for d in failure.get("details") or [] if d)
        message = failure.get("message") or "unknown error"
        raise ImportFailed(f"The ArcGIS server at {url} answered with error {failure.get('code', '')}: {message}"
                           + (f" ({details})" if details else "") + ".")
    if status >= 400:
        raise ImportFailed(f"{url} answered HTTP {status}.")
    return document


def _get(client: httpx.Client, url: str, settings: ImportSettings,
         params: dict[str, str] | None) -> tuple[int, str, bytes]:
    """Status, content type and body, read in chunks and refused past the upload limit; retried with
    backoff on network errors, timeouts and 5xx/429."""
    attempts = max(1, settings.http_retries)
    limit = settings.max_upload_mb * 1_000_000
    for attempt in range(attempts):
        last = attempt == attempts - 1
        try:
            with client.stream("GET", url, params=params) as response:
                if response.status_code not in _RETRY_STATUS or last:
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > limit:
                            raise ImportFailed(f"{url} sent more than {settings.max_upload_mb} MB; it was not read.")
                    return response.status_code, response.headers.get("content-type", ""), bytes(body)
        except AddressRefused as error:
            raise ImportFailed(f"{url} was not fetched: imports read only public internet addresses, and {error} "
                               "(or a page it redirects to) is not one. An administrator can allow a named internal "
                               "host with GROUNDWORK_IMPORTS__PRIVATE_HOSTS_ALLOWED.") from None
        except httpx.TimeoutException as error:
            if last:
                raise ImportFailed(f"{url} did not answer within {settings.http_timeout_s:g} s "
                                   f"({attempts} attempts).") from error
        except httpx.TooManyRedirects as error:
            raise ImportFailed(f"{url} redirects too many times.") from error
        except httpx.HTTPError as error:
            if last:  # one message whatever failed (refused, reset, closed port, TLS, unknown host): no port scan
                raise ImportFailed(f"{url} could not be reached ({attempts} attempts).") from error
        time.sleep(settings.http_backoff_s * 2 ** attempt)
    raise AssertionError("unreachable")
