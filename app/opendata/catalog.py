"""The data inventory (the /data page) and a machine-readable catalog (Project Open Data
``data.json`` v1.1, the DCAT-US profile), from the dataset registry."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.i18n import gettext
from app.opendata.formats import ExportFormat
from app.opendata.registry import DatasetField, all_datasets
from app.settings import Settings

POD_SCHEMA = "https://project-open-data.cio.gov/v1.1/schema"


@dataclass(frozen=True)
class Download:
    format: str  # label: GeoJSON, CSV, GeoPackage
    url: str
    media_type: str
    extension: str


@dataclass(frozen=True)
class DatasetEntry:
    id: str
    title: str
    description: str
    loaded: bool
    source: str
    modified: datetime | None
    feature_count: int
    revision: int
    geometry_type: str | None
    fields: list[DatasetField]
    extra_note: str
    licence_name: str
    licence_url: str
    keywords: tuple[str, ...]
    bbox: tuple[float, float, float, float] | None
    downloads: list[Download]


def inventory(*, session: Session, settings: Settings) -> list[DatasetEntry]:
    """Every registered dataset with what is published now (loaded or not)."""
    entries = []
    for dataset in all_datasets():
        state = dataset.state(session)
        loaded = state is not None and state.feature_count > 0
        entries.append(DatasetEntry(
            id=dataset.id, title=gettext(dataset.title), description=gettext(dataset.description), loaded=loaded,
            source=state.source if state else "", modified=state.modified if state else None,
            feature_count=state.feature_count if state else 0, revision=state.revision if state else 0,
            geometry_type=dataset.geometry_type,
            fields=[replace(f, description=gettext(f.description)) if f.description else f for f in dataset.fields],
            extra_note=gettext(dataset.extra_note) if dataset.extra_note else "",
            licence_name=dataset.licence_name or settings.opendata.licence_name,
            licence_url=dataset.licence_url or settings.opendata.licence_url,
            keywords=dataset.keywords, bbox=state.bbox if state else None,
            downloads=[Download(f.label, f"/data/{dataset.id}.{f.value}", f.media_type.split(";")[0], f.value)
                       for f in ExportFormat] if loaded else [],
        ))
    return entries


def catalog_version(entries: list[DatasetEntry]) -> str:
    """Changes whenever any dataset does: the catalog's ETag."""
    parts = [f"{e.id}:{e.revision}:{int(e.modified.timestamp()) if e.modified else 0}" for e in entries]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def catalog(*, entries: list[DatasetEntry], settings: Settings) -> dict[str, Any]:
    """A ``data.json`` catalog of the published (loaded) datasets."""
    base = settings.base_url.rstrip("/")
    publisher = {"@type": "org:Organization", "name": settings.opendata.publisher}
    contact: dict[str, str] = {"@type": "vcard:Contact", "fn": settings.opendata.publisher}
    if settings.opendata.contact_email:
        contact["hasEmail"] = f"mailto:{settings.opendata.contact_email}"
    datasets = []
    for entry in entries:
        if not entry.loaded:
            continue
        item: dict[str, Any] = {
            "@type": "dcat:Dataset",
            "identifier": f"{base}/data#{entry.id}",
            "title": entry.title,
            "description": entry.description,
            "keyword": list(entry.keywords) or [entry.id],
            "modified": entry.modified.isoformat() if entry.modified else None,
            "publisher": publisher,
            "contactPoint": contact,
            "accessLevel": "public",
            "license": entry.licence_url,
            "landingPage": f"{base}/data#{entry.id}",
            "distribution": [
                {"@type": "dcat:Distribution", "title": f"{entry.title} ({d.format})", "format": d.format,
                 "mediaType": d.media_type, "downloadURL": f"{base}{d.url}"}
                for d in entry.downloads],
        }
        if entry.bbox:
            item["spatial"] = ",".join(repr(v) for v in entry.bbox)
        datasets.append(item)
    return {
        "@context": f"{POD_SCHEMA}/catalog.jsonld",
        "@type": "dcat:Catalog",
        "conformsTo": POD_SCHEMA,
        "describedBy": f"{POD_SCHEMA}/catalog.json",
        "dataset": datasets,
    }
