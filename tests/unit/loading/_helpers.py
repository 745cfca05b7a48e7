"""Shared by the loading tests: where the samples are, and how to catch input errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from baluarte.errors import InputError, InputErrors

ROOT = Path(__file__).resolve().parents[3]
BAD = ROOT / "tests" / "samples" / "bad"
DATA = Path(__file__).resolve().parent / "data"


def input_errors(call: Callable[[], Any]) -> list[InputError]:
    """The InputErrors ``call`` raises, flattened (it must raise)."""
    with pytest.raises(InputError) as caught:
        call()
    exc = caught.value
    return list(exc.errors) if isinstance(exc, InputErrors) else [exc]


def only_error(call: Callable[[], Any]) -> InputError:
    errors = input_errors(call)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]
