"""Verifying the published versions kept in the database: every export's hash recomputed and
compared with the hash it was published under, and the chain of predecessors' hashes checked.
The same checks run on downloaded exports (``groundwork verify FILE|URL``, app/commands/verify.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.scenarios.chain import Checked, check_chain, check_export
from app.scenarios.publish import all_versions


@dataclass(frozen=True)
class Report:
    versions: list[Checked]
    chain_problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.chain_problems and all(c.ok for c in self.versions)

    @property
    def problems(self) -> list[str]:
        return [p for c in self.versions for p in c.problems] + self.chain_problems


def database(*, session: Session) -> Report:
    checked = [check_export(v.export.encode("utf-8"), source=f"version {v.version}", claimed_hash=v.content_hash)
               for v in all_versions(session=session)]
    return Report(checked, check_chain(checked))
