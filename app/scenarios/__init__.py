"""Whittling: scenarios (named working lists) optimized under the program's rules, compared side by
side, and one published as the ballot list.

- ``app.scenarios.scenarios`` — create, optimize (app.optimizer), hand edits with rule checks, locks
- ``app.scenarios.compare``   — two scenarios side by side, with the projected network PCI (app.impact)
- ``app.scenarios.publish``   — freeze one scenario as the versioned, hashed ballot list
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """A problem staff can fix; the message is shown as is. Nothing was written."""
