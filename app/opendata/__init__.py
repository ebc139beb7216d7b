"""Open data: every public dataset downloadable as GeoJSON, CSV and GeoPackage, and listed.

A *dataset* is anything the city publishes: the six condition layers today; the public
proposals and the ballot list later. The exporters, the ``/data`` inventory page, the
``/data/catalog.json`` catalog (Project Open Data / DCAT-US) and ``groundwork export`` all
work from the registry in ``app.opendata.registry`` and know nothing about any one dataset.

Publishing a new dataset
------------------------
Add a module to ``app/opendata/datasets/`` (it is discovered automatically) that defines
``DATASETS: list[Dataset]``::

    from app.opendata.registry import Dataset, DatasetField, DatasetState, ExportFeature

    def _state(session: Session) -> DatasetState | None:
        ...  # revision, feature count, last update, source; None when nothing is published yet

    def _features(session: Session) -> Iterator[ExportFeature]:
        ...  # yield ExportFeature(properties={...}, geometry=shapely_geometry), reading in batches

    DATASETS = [Dataset(id="proposals", title="Proposals", description="…", geometry_type="MultiLineString",
                        fields=(DatasetField("title", "string", "The proposal's title."), ...),
                        state=_state, features=_features)]

The id is the URL (``/data/proposals.csv``). ``fields`` fix the columns of the CSV and the
GeoPackage, in order; a feature's properties may omit a field (written as null). Datasets whose
columns depend on what was imported (the layers' original attributes) also give
``extra_fields(session)``. The revision must change whenever the data does: downloads' ETags
derive from it. ``features`` must stream (read in batches, e.g. keyset pages): the city's
largest layer is never held in memory.
"""
