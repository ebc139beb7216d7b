"""Thin FastAPI routers, one module per area.

Every module here with a ``router`` is mounted by ``create_app``; its optional ``NAV`` list
(of ``app.navigation.NavEntry``) adds header links. Adding an area means adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def discover() -> list[ModuleType]:
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "router"):
            modules.append(module)
    return modules
