"""Real Linux test hosts for integration tests (marker ``hosts``).

``lab`` (session): one LinuxHostLab over the cached debootstrap image; skipped unless root.
``linux_host`` (function): a fresh host, torn down after the test.
``make_host`` (function): a factory, ``make_host("web1")``, for tests that need several hosts;
every host it made is torn down after the test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator

import pytest

from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab, leftovers
from baluarte.lab.systemd_hosts import BeforeBoot, SystemdHost, SystemdHostLab

_TOOLS = ("debootstrap", "ip", "nsenter", "unshare", "ssh", "ssh-keygen", "dpkg-deb")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Any test on a real host is a `hosts` test, so `-m "not hosts"` deselects it.
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.hosts)


@pytest.fixture(scope="session")
def lab() -> Iterator[LinuxHostLab]:
    if os.geteuid() != 0:
        pytest.skip("real Linux test hosts need root (namespaces, overlay mounts, veth pairs)")
    missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"real Linux test hosts need {', '.join(missing)} (make system-deps)")
    with LinuxHostLab() as the_lab:
        yield the_lab
    assert leftovers(the_lab.prefix) == []


@pytest.fixture
def make_host(lab: LinuxHostLab) -> Iterator[Callable[[str], LinuxHost]]:
    made: list[LinuxHost] = []

    def make(name: str) -> LinuxHost:
        host = lab.up(name)
        made.append(host)
        return host

    yield make
    for host in made:
        lab.down(host)


@pytest.fixture
def linux_host(make_host: Callable[[str], LinuxHost]) -> LinuxHost:
    return make_host("testhost")


# -- systemd hosts: systemd as PID 1 in systemd-nspawn containers (baluarte/lab/systemd_hosts.py)
# ``systemd_lab`` (session): a SystemdHostLab; ``systemd_host``: one booted host named "sdhost";
# ``make_systemd_host(name, before_boot=None)``: several, torn down after the test. At most 15
# run at once on the machine (``up`` waits for a free slot). Depends on ``lab`` so that the
# same skips and the ``hosts`` marker apply.


@pytest.fixture(scope="session")
def systemd_lab(lab: LinuxHostLab) -> Iterator[SystemdHostLab]:
    if shutil.which("systemd-nspawn") is None:
        pytest.skip("systemd lab hosts need systemd-nspawn (make system-deps)")
    with SystemdHostLab() as the_lab:
        yield the_lab
    assert leftovers(the_lab.prefix) == []


@pytest.fixture
def make_systemd_host(systemd_lab: SystemdHostLab) -> Iterator[Callable[..., SystemdHost]]:
    made: list[SystemdHost] = []

    def make(name: str, *, before_boot: BeforeBoot | None = None) -> SystemdHost:
        host = systemd_lab.up(name, before_boot=before_boot)
        made.append(host)
        return host

    yield make
    for host in made:
        systemd_lab.down(host)


@pytest.fixture
def systemd_host(make_systemd_host: Callable[..., SystemdHost]) -> SystemdHost:
    return make_systemd_host("sdhost")
