"""Whittling: scenarios (named working lists) optimized under the program's rules, compared side by
side, and one published as the ballot list.

- ``app.scenarios.scenarios`` — create, optimize (app.optimizer), hand edits with rule checks, locks
- ``app.scenarios.compare``   — two scenarios side by side, with the projected network PCI (app.impact)
- ``app.scenarios.publish``   — freeze one scenario as the versioned, hashed ballot list (confirmed first)
- ``app.scenarios.amend``     — a new version of the published list, with a public reason
- ``app.scenarios.chain``     — canonical JSON, hashes, the chain of versions, what changed (pure)
- ``app.scenarios.verify``    — every stored version recomputed and the chain checked
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """A problem staff can fix; the message is shown as is. Nothing was written."""
