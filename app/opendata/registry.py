"""The registry of published datasets (see ``app.opendata`` for how to add one)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from shapely.geometry.base import BaseGeometry
from sqlmodel import Session

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
GeometryType = Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]


@dataclass(frozen=True)
class DatasetField:
    """One column: its name in every format, its type, and what it means to a reader."""

    name: str
    type: FieldType
    description: str = ""


@dataclass(frozen=True)
class DatasetState:
    """What is published now. ``revision`` changes whenever the data does."""

    revision: int
    feature_count: int
    modified: datetime | None
    source: str = ""
    bbox: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class ExportFeature:
    properties: dict[str, Any]
    geometry: BaseGeometry | None


@dataclass(frozen=True)
class Dataset:
    id: str
    title: str
    description: str
    geometry_type: GeometryType | None
    fields: tuple[DatasetField, ...]
    state: Callable[[Session], DatasetState | None]
    features: Callable[[Session], Iterable[ExportFeature]]
    extra_fields: Callable[[Session], list[DatasetField]] | None = None
    keywords: tuple[str, ...] = ()
    licence_name: str | None = None  # None: the city's open-data licence (settings)
    licence_url: str | None = None
    order: int = 50
    extra_note: str = ""  # shown under the fields, e.g. how original attributes are named

    def columns(self, session: Session) -> list[DatasetField]:
        """Every column of this export, in order: the fixed fields, then the extra ones."""
        extra = self.extra_fields(session) if self.extra_fields else []
        names = {f.name for f in self.fields}
        return [*self.fields, *(f for f in extra if f.name not in names)]


class UnknownDataset(LookupError):
    pass


@dataclass
class _Registry:
    datasets: dict[str, Dataset] = field(default_factory=dict)

    def add(self, dataset: Dataset) -> None:
        if dataset.id in self.datasets:
            raise ValueError(f"dataset id {dataset.id!r} is registered twice")
        self.datasets[dataset.id] = dataset


@lru_cache
def _registry() -> _Registry:
    import app.opendata.datasets as package

    registry = _Registry()
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for dataset in getattr(module, "DATASETS", []):
            registry.add(dataset)
    return registry


def all_datasets() -> list[Dataset]:
    return sorted(_registry().datasets.values(), key=lambda d: (d.order, d.id))


def get_dataset(dataset_id: str) -> Dataset:
    try:
        return _registry().datasets[dataset_id]
    except KeyError:
        raise UnknownDataset(f"There is no dataset called {dataset_id!r}.") from None
