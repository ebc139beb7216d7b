"""After the vote: the referendum's result, the open delivery of each ballot project and the
condition update its completion makes to the assets it treated.

``vote`` records the result; ``projects`` phases, milestones, spending, updates and followers;
``photos`` the upload checks and the photo store; ``conditions`` the completion that writes the
treated assets' new condition like an import; ``overview`` the public figures and map.
Delivery lives beside the published list (``published_list``, ``published_item``), never in it.
"""

from __future__ import annotations


class DeliveryError(ValueError):
    """A change a user asked for that is refused; nothing was written."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
