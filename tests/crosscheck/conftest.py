"""The cross-check runs once per session (``crosscheck`` fixture); its tests read the result.

It needs root and systemd-nspawn, like the other lab tests (skipped otherwise), and what
``python -m baluarte.lab.prepare`` fetches: the SCAP data stream and the legacy daemons'
packages (a test never downloads; it fails and says so). The run is saved as JSON next to the
session's temporary files, so a stale docs/crosscheck.md can be rewritten from it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from baluarte.lab.crosscheck import (
    ensure_crosscheck_image,
    ensure_legacy_debs,
    ensure_scap_content,
)
from baluarte.lab.images import LabError
from baluarte.lab.linux_hosts import leftovers
from baluarte.lab.systemd_hosts import SystemdHostLab
from tests.crosscheck.matrix import Matrix, run_matrix

_TOOLS = ("debootstrap", "ip", "nsenter", "systemd-nspawn", "ssh", "dpkg-deb", "apt-ftparchive")


def run_crosscheck(workdir: Path, *, fetch: bool = True) -> Matrix:
    """Every state on its own lab host, all tools, ground truth; the lab is gone afterwards."""
    image = ensure_crosscheck_image()
    legacy_debs = ensure_legacy_debs(image, fetch=fetch)
    data_stream = ensure_scap_content(fetch=fetch)
    with SystemdHostLab(image=image) as lab:
        matrix = run_matrix(lab, workdir, legacy_debs, data_stream)
    assert leftovers(lab.prefix) == []
    return matrix


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"crosscheck", "crosscheck_json"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.hosts)


@pytest.fixture(scope="session")
def crosscheck_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.geteuid() != 0:
        pytest.skip("the cross-check needs root (lab hosts: namespaces, overlays, nspawn)")
    missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the cross-check needs {', '.join(missing)} (make system-deps)")
    workdir = tmp_path_factory.mktemp("crosscheck")
    try:
        matrix = run_crosscheck(workdir, fetch=False)
    except LabError as exc:
        pytest.fail(f"cross-check lab: {exc}")
    saved = workdir / "crosscheck.json"
    saved.write_text(matrix.to_json())
    return saved


@pytest.fixture(scope="session")
def crosscheck(crosscheck_json: Path) -> Matrix:
    return Matrix.from_json(crosscheck_json.read_text())
