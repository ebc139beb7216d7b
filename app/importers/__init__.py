"""Importing condition layers from the files and portals cities already have.

``sources`` opens a file or URL as a ``SourceTable`` read in batches (GeoJSON, CSV, Shapefile,
GeoPackage with pyogrio's Arrow stream; GeoJSON URLs and ArcGIS layers with httpx); ``fields`` maps
and normalizes its columns for a layer kind (the mapping table lives there); ``checks`` validates
each batch into ``FeatureRecord``s and an ``ImportReport``; ``service`` stages the batches' rows in
a scratch table (``app.layers.changed_rows.StagedRows``), works out the impact from there and
writes the layer from it (``app.layers.store.write_staged``) — all of it or nothing, in memory
bounded by a batch.
"""
