"""Importing condition layers from the files and portals cities already have.

``sources`` reads a file or URL into a ``SourceTable`` (GeoJSON, CSV, Shapefile, GeoPackage
with pyogrio; GeoJSON URLs and ArcGIS layers with httpx); ``fields`` maps and normalizes its
columns for a layer kind (the mapping table lives there); ``checks`` validates every row into
``FeatureRecord``s and a ``ImportReport``; ``service`` runs the whole import and hands the
records to ``app.layers.store.write_layer`` — all of it or nothing.
"""
