"""The pavement plan: the network view a pavement engineer keeps (StreetSaver, PAVER).

- ``curves``   — pure: the deterioration curves per functional class and treatments' effects (validation,
  preview points) and fitting them to pairs of survey observations (scipy least squares).
- ``needs``    — pure: the backlog today, each segment priced as a one-segment proposal.
- ``simulate`` — pure: budget scenarios year by year, and the yearly budget a target PCI needs.
- ``cashflow`` — pure: spending by year against the revenue collected.
- ``service``  — the database side (keyword-only ``session``): load, version, save.

Money is integer cents throughout. See docs/PAVEMENT_PLAN.md.
"""
