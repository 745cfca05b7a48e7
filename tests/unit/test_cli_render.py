"""What the command line prints, as text: run ids summed up as ranges."""

from __future__ import annotations

import pytest

from baluarte.cli.render import id_ranges


@pytest.mark.parametrize(
    ("ids", "shown"),
    [
        ([], ""),
        ([7], "7"),
        (list(range(1, 91)), "1-90"),
        ([1, 2, 3, 7, 9, 10], "1-3, 7, 9-10"),
        ([10, 9, 3, 1, 2, 2], "1-3, 9-10"),  # in order, each once
        ([4, 6, 8], "4, 6, 8"),
    ],
)
def test_run_ids_are_shown_as_ranges(ids: list[int], shown: str) -> None:
    assert id_ranges(ids) == shown
