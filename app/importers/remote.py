"""Remote sources over http(s): a GeoJSON document, or an ArcGIS FeatureServer/MapServer layer
(the layer behind most US open-data portals, e.g. ArcGIS Hub), read page by page.

Every request has the configured timeout and is retried with backoff on network errors and
5xx/429 answers. HTML pages and ArcGIS error payloads (``{"error": {...}}``, sent with HTTP 200)
are reported as such. The result is saved as a GeoJSON file for the file reader.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx

from app.importers.report import ImportFailed
from app.settings import ImportSettings

ARCGIS_LAYER = re.compile(r"^(?P<layer>.+/(?:FeatureServer|MapServer)/\d+)(?:/query)?/?$", re.IGNORECASE)
_RETRY_STATUS = {429, 500, 502, 503, 504}


def fetch(url: str, directory: Path, *, settings: ImportSettings,
          transport: httpx.BaseTransport | None = None) -> tuple[Path, list[str]]:
    """Download ``url`` into ``directory`` as GeoJSON; returns the file and notes for the report."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "download.geojson"
    timeout = httpx.Timeout(settings.http_timeout_s)
    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=True,
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
        except httpx.TimeoutException as error:
            if last:
                raise ImportFailed(f"{url} did not answer within {settings.http_timeout_s:g} s "
                                   f"({attempts} attempts).") from error
        except httpx.HTTPError as error:
            if last:
                raise ImportFailed(f"{url} could not be reached: {error} ({attempts} attempts).") from error
        time.sleep(settings.http_backoff_s * 2 ** attempt)
    raise AssertionError("unreachable")
