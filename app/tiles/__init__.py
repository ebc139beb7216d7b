"""Vector tiles of the condition layers (``/tiles/{layer}/{z}/{x}/{y}.mvt`` and TileJSON).

``service`` plans a tile (its address checked, its ETag from the layer's revision) and renders
it with the database's encoder: ``postgis`` (``ST_AsMVT``) or ``spatialite`` (the spatial index,
then Python). What a tile holds comes from ``app.layers.specs``.
"""
