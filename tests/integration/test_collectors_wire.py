"""Plans and results through the collector wire documents, with the real collectors.

One Linux lab host (real SSH), one FortiGate emulator (real HTTPS) and one Windows emulator
(real WinRM/NTLM), planned with the shipped baselines. As a site collector would: the central
side's plan goes out as a document, comes back in as a DevicePlan that ``collect_plans`` runs,
and each result goes back as a document that the central side evaluates. Its findings must be
those of the result evaluated where it was collected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from baluarte.collected import Collected, CollectOptions
from baluarte.collectors.wire import (
    collected_document,
    collected_from_document,
    error_document,
    error_from_document,
    plan_document,
    plan_from_document,
)
from baluarte.engine import collect_plans, load_inputs
from baluarte.errors import DeviceError
from baluarte.evaluate import evaluate_device
from baluarte.findings import Finding
from baluarte.lab.fortigate import FortigateLab
from baluarte.lab.fortigate.shipped import shipped_state as fortigate_state
from baluarte.lab.linux_hosts import LinuxHost, LinuxHostLab
from baluarte.lab.windows import WindowsLab
from baluarte.lab.windows.shipped import shipped_state as windows_state
from baluarte.plan import DevicePlan, plan
from baluarte.waivers import WaiverSet

ROOT = Path(__file__).resolve().parents[2]
CANARY = "canary-Zq8v1XkP-do-not-leak"
BASELINES = ("linux-baseline", "windows-baseline", "fortigate-baseline")


@dataclass(frozen=True)
class Wired:
    """One device: the central side's plan, what its collector found, and that result as the
    central side read it back from its document."""

    plan: DevicePlan
    domains: tuple[str, ...]
    result: Collected | DeviceError | None
    document: dict[str, Any] | None
    received: Collected | DeviceError | None


@pytest.fixture(scope="module")
def linux_host(lab: LinuxHostLab) -> Iterator[LinuxHost]:
    host = lab.up("wirehost")
    yield host
    lab.down(host)


@pytest.fixture(scope="module")
def fortigate() -> Iterator[FortigateLab]:
    with FortigateLab(fortigate_state("small-office"), tokens={CANARY: "baluarte-ro"}) as unit:
        yield unit


@pytest.fixture(scope="module")
def windows() -> Iterator[WindowsLab]:
    state = windows_state("office-pc")
    with WindowsLab(state, users={"baluarte": CANARY}, auth="ntlm", https=False) as host:
        yield host


def inventory(lab: LinuxHostLab, host: LinuxHost, unit: FortigateLab, pc: WindowsLab) -> str:
    devices: list[dict[str, Any]] = [
        {
            "name": "srv-files",
            "platform": "linux",
            "address": host.address,
            "ssh": {
                "user": "root",
                "key": f"file:{lab.key_path}",
                "known_hosts": str(lab.known_hosts_path),
                "password": "env:BALUARTE_TEST_CANARY",
            },
        },
        {
            "name": "fw-hq",
            "platform": "fortigate",
            "address": unit.host,
            "port": unit.port,
            "fortios": {"token": "env:BALUARTE_TEST_CANARY", "ca_bundle": str(unit.ca_path)},
        },
        {
            "name": "pc-recepcion",
            "platform": "windows",
            "address": pc.host,
            "port": pc.port,
            "winrm": {
                "user": "baluarte",
                "password": "env:BALUARTE_TEST_CANARY",
                "auth": "ntlm",
                "https": False,
            },
        },
    ]
    client = {"name": "acme", "legal_name": "ACME", "sites": [{"name": "hq", "devices": devices}]}
    return json.dumps({"clients": [client]})  # JSON is YAML


@pytest.fixture(scope="module")
def wired(
    tmp_path_factory: pytest.TempPathFactory,
    lab: LinuxHostLab,
    linux_host: LinuxHost,
    fortigate: FortigateLab,
    windows: WindowsLab,
) -> Iterator[list[Wired]]:
    tmp = tmp_path_factory.mktemp("wire")
    (tmp / "inventory.yaml").write_text(inventory(lab, linux_host, fortigate, windows))
    (tmp / "policies").mkdir()
    for name in BASELINES:
        (tmp / "policies" / f"{name}.yaml").write_text(
            (ROOT / "policies" / f"{name}.yaml").read_text()
        )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("BALUARTE_TEST_CANARY", CANARY)
        inputs = load_inputs([tmp / "inventory.yaml"], tmp / "policies", default_waivers=False)
        central = {p.ref.key: p for p in plan(inputs.inventory, inputs.policies)}
        # the collector's side: only what the documents say
        plan_docs = [json.dumps(plan_document(p)) for p in central.values()]
        rebuilt = [plan_from_document(json.loads(text)) for text in plan_docs]
        options = CollectOptions(artifacts=tmp / "artifacts")
        out: list[Wired] = []
        for collector_plan, result, domains in collect_plans(rebuilt, options):
            document: dict[str, Any] | None = None
            received: Collected | DeviceError | None = None
            if isinstance(result, Collected):
                document = json.loads(json.dumps(collected_document(result)))
                received = collected_from_document(document)
            elif isinstance(result, DeviceError):
                document = json.loads(json.dumps(error_document(result)))
                received = error_from_document(document)
            out.append(Wired(central[collector_plan.ref.key], domains, result, document, received))
    assert all(CANARY not in text for text in plan_docs)
    yield out


def comparable(findings: list[Finding]) -> list[tuple[Any, ...]]:
    return [
        (f.control, f.status, f.expected, f.observed, f.reason, f.evidence, f.error_kind)
        for f in findings
    ]


def findings(item: Wired, result: Collected | DeviceError | None, now: datetime) -> list[Finding]:
    return evaluate_device(
        item.plan, result, collected_domains=item.domains, waivers=WaiverSet(()), now=now
    )


def test_every_platform_was_collected_through_the_documents(wired: list[Wired]) -> None:
    got = {w.plan.ref.platform: w for w in wired}
    assert sorted(got) == ["fortigate", "linux", "windows"]
    for platform, item in got.items():
        assert isinstance(item.result, Collected), (platform, item.result)
        assert isinstance(item.received, Collected)
        assert item.received.facts == item.result.facts, platform
        assert item.received.identity == item.result.identity
        assert item.received.problems == item.result.problems
        assert item.received.raw is None
        assert item.document is not None and CANARY not in json.dumps(item.document)
    assert set(got["linux"].received.facts) == {  # type: ignore[union-attr]
        "patching",
        "firewall",
        "endpoint",
        "backup",
        "access",
        "logging",
    }


def test_the_central_side_finds_what_the_collector_found(wired: list[Wired]) -> None:
    now = datetime.now(UTC)
    for item in wired:
        local = comparable(findings(item, item.result, now))
        remote = comparable(findings(item, item.received, now))
        assert len(local) == len(item.plan.controls) > 0
        assert remote == local, item.plan.ref.key
