"""The ballot list's versions as a hash chain: canonical JSON, its SHA-256, the check of one
version's export and of the chain, and what changed from one version to the next.

Pure: no database, no network. ``publish`` and ``amend`` write versions with it; the public
verification page, ``/ballot`` ("what changed") and ``groundwork verify`` read them with it.
See docs/BALLOT_HASH.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

FORMAT = "groundwork-ballot-list/1"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(export_text: str) -> str:
    return hashlib.sha256(export_text.encode("utf-8")).hexdigest()


@dataclass
class Checked:
    """One export checked: its recomputed hash against the hash it is published under."""

    source: str
    version: int | None
    computed_hash: str
    claimed_hash: str | None
    previous_hash: str | None
    reason: str | None
    document: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_export(raw: bytes, *, source: str, claimed_hash: str | None = None) -> Checked:
    """Recompute the export's hash; a problem when it is not canonical JSON of a ballot list, or its
    hash is not the one it is published under."""
    computed = hashlib.sha256(raw).hexdigest()
    checked = Checked(source, None, computed, claimed_hash.lower() if claimed_hash else None, None, None, None)
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        checked.problems.append(f"{source} is not JSON ({error}).")
        return checked
    if not isinstance(document, dict) or not str(document.get("format", "")).startswith("groundwork-ballot-list/"):
        checked.problems.append(f"{source} is not a Groundwork ballot list export (no “format”).")
        return checked
    checked.document = document
    checked.version = document.get("version") if isinstance(document.get("version"), int) else None
    checked.previous_hash = document.get("previous_hash")
    checked.reason = document.get("reason")
    if canonical_json(document).encode("utf-8") != raw:
        checked.problems.append(f"{source} is not in canonical form (sorted keys, no whitespace): its bytes were "
                                "changed after publication, so its hash cannot match.")
    if checked.claimed_hash is not None and checked.claimed_hash != computed:
        checked.problems.append(f"version {checked.version}: the export hashes to {computed}, not to the published "
                                f"{checked.claimed_hash}.")
    if checked.version is None or checked.version < 1:
        checked.problems.append(f"{source} has no version number.")
    elif checked.version > 1 and not checked.previous_hash:
        checked.problems.append(f"version {checked.version} does not record its predecessor's hash.")
    elif checked.version > 1 and not (checked.reason or "").strip():
        checked.problems.append(f"version {checked.version} gives no public reason for the amendment.")
    return checked


def check_chain(versions: list[Checked]) -> list[str]:
    """Problems with the chain: each version after the first must record the hash its
    predecessor's export recomputes to. Versions are checked in order; a gap is named."""
    problems = []
    ordered = sorted((c for c in versions if c.version is not None), key=lambda c: c.version or 0)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.version != (before.version or 0) + 1:
            problems.append(f"version {after.version} follows version {before.version}: "
                            f"version {(before.version or 0) + 1} is missing, so the chain cannot be checked there.")
        elif after.previous_hash != before.computed_hash:
            problems.append(f"version {after.version} records its predecessor's hash as {after.previous_hash}, but "
                            f"version {before.version}'s export hashes to {before.computed_hash}: the chain is "
                            "broken.")
    return problems


@dataclass(frozen=True)
class CostChange:
    proposal_id: int
    title: str
    before_cents: int
    after_cents: int


@dataclass(frozen=True)
class Changes:
    """What changed from version ``before`` to ``after`` (items by proposal number)."""

    before: int
    after: int
    reason: str
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    cost_changes: list[CostChange]
    tier_changes: list[tuple[dict[str, Any], dict[str, Any]]]
    total_before_cents: int
    total_after_cents: int
    budget_changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # the program figures it is shown by

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.cost_changes or self.tier_changes or self.budget_changes)


def changes(before: dict[str, Any], after: dict[str, Any]) -> Changes:
    old = {i["proposal_id"]: i for i in before.get("items", [])}
    new = {i["proposal_id"]: i for i in after.get("items", [])}
    kept = sorted(set(old) & set(new))
    return Changes(
        before.get("version", 0), after.get("version", 0), str(after.get("reason") or ""),
        [new[i] for i in sorted(set(new) - set(old))], [old[i] for i in sorted(set(old) - set(new))],
        [CostChange(i, new[i]["title"], old[i]["cost_cents"], new[i]["cost_cents"]) for i in kept
         if old[i]["cost_cents"] != new[i]["cost_cents"]],
        [(old[i], new[i]) for i in kept if old[i]["tier"] != new[i]["tier"]],
        int(before.get("total_cents", 0)), int(after.get("total_cents", 0)), _budget_changes(before, after))


_BUDGET_FIGURES = ("expected_revenue_cents", "collection_years", "program_management_bps", "tiers")


def _budget_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The program's figures that differ between two versions that both keep them (an amendment takes the
    program as it is then: a revenue forecast revised since is a change residents are told of)."""
    old, new = before.get("budget") or {}, after.get("budget") or {}
    if not old or not new:
        return {}
    return {name: (old.get(name), new.get(name)) for name in _BUDGET_FIGURES if old.get(name) != new.get(name)}
