"""The site's navigation, by role. Areas add their entries here as they are built."""

from __future__ import annotations

from dataclasses import dataclass

from models.accounts import Role, User


@dataclass(frozen=True)
class NavEntry:
    """A link in the header. Route modules declare theirs in a module-level ``NAV`` list."""

    label: str
    path: str
    audience: str = "everyone"  # everyone | signed_in | staff | admin
    order: int = 50


@dataclass(frozen=True)
class NavLink:
    label: str
    path: str
    current: bool


class Navigation:
    def __init__(self, entries: list[NavEntry]) -> None:
        self.entries = sorted(entries, key=lambda e: (e.order, e.label))

    def for_viewer(self, viewer: User | None, current_path: str) -> dict[str, list[NavLink]]:
        role = Role(viewer.role) if viewer else None
        allowed = {"everyone"}
        if viewer:
            allowed.add("signed_in")
        if role and role.is_staff:
            allowed.add("staff")
        if role is Role.admin:
            allowed.add("admin")
        sections: dict[str, list[NavLink]] = {"public": [], "signed_in": [], "staff": []}
        for entry in self.entries:
            if entry.audience not in allowed:
                continue
            section = "staff" if entry.audience in ("staff", "admin") else (
                "signed_in" if entry.audience == "signed_in" else "public")
            current = current_path == entry.path or (entry.path not in ("/", "/staff")
                                                     and current_path.startswith(entry.path + "/"))
            sections[section].append(NavLink(entry.label, entry.path, current))
        return sections
