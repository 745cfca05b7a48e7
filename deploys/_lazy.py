"""A platform's executor, imported only when apply runs it."""

from __future__ import annotations

import importlib
from collections.abc import Callable

__all__ = ["lazy_executor"]


def lazy_executor(package: str) -> Callable[[str], object]:
    """The module ``__getattr__`` of a remedies package: ``EXECUTOR`` comes from
    ``<package>.executor`` on first use (it needs a transport and the apply engine; planning,
    tests and ``baluarte controls`` do not)."""

    def __getattr__(name: str) -> object:
        if name == "EXECUTOR":
            return importlib.import_module(f"{package}.executor").EXECUTOR
        raise AttributeError(name)

    return __getattr__
