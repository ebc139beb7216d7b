"""Condition layers: band schemes, storage of imported features, and per-kind specs."""
