"""Published datasets, one module per area; each defines ``DATASETS`` (see ``app.opendata``)."""
