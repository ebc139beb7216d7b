"""Costing: quantity take-off from condition assets, treatment selection and estimates.

- ``app.costing.estimate``  — pure arithmetic on plain dataclasses (no database): ``take_off``,
  ``select_treatment``, ``estimate``.
- ``app.costing.catalog``   — the versioned unit-cost catalog in the database (copy-on-write
  versions, defaults, CSV import/export).
- ``app.costing.service``   — prices assets loaded from the condition layers: ``price_assets``.

Money is integer cents; shares and markups are integer basis points; quantities are
``Decimal`` with two decimals. See docs/COSTS.md for the rules and the sources of the defaults.
"""
