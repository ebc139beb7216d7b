"""OGC API – Features, Part 1 Core, at ``/ogc``: one collection per condition layer.

``features`` reads items (bounded pages with ``bbox``, ``limit``, ``offset`` and equality filters
on each layer's queryables); ``documents`` builds the landing page, conformance and collection
documents with their links. Collection ids are the layer ids of ``/tiles``.
"""
