"""The documents between the central side and a site collector: plans out, results back.

Plans come from the repository's own inventory and policies and from an inventory with every
platform and every kind of credential reference; results from the shipped Windows and FortiGate
lab states, parsed as their collectors parse them (no network here: see
tests/integration/test_collectors_wire.py for the real collectors).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from baluarte.collected import Collected, HostIdentity
from baluarte.collectors.wire import (
    collected_document,
    collected_from_document,
    error_document,
    error_from_document,
    plan_document,
    plan_from_document,
)
from baluarte.engine import load_inputs
from baluarte.errors import AuthFailed, BadAnswer, DeviceError, TimedOut, Unreachable
from baluarte.evaluate import evaluate_device
from baluarte.findings import Finding
from baluarte.masking import forget_secrets, register_secret
from baluarte.plan import DevicePlan, plan
from baluarte.secrets import SecretRef, resolve
from baluarte.transports.fortios._answers import TlsVerificationFailed
from baluarte.waivers import WaiverSet
from checks.fortigate.parse import collected as fortigate_collected
from checks.fortigate.snapshot import snapshot_from_state
from checks.windows.parse import collected as windows_collected
from checks.windows.parse import validate

ROOT = Path(__file__).resolve().parents[3]
CANARY = "canary-Zq8v1XkP-do-not-leak"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

INVENTORY = """\
clients:
  - name: acme
    legal_name: ACME Asesores S.L.
    timezone: Atlantic/Canary
    contacts: [it@acme.example]
    change_control: {require_ticket: true}
    declared_devices: 9
    collector: madrid
    sites:
      - name: other
        devices:
          - {name: elsewhere, platform: linux, address: 192.0.2.99}
      - name: hq
        collector: sevilla
        devices:
          - name: srv-files
            platform: linux
            address: 192.0.2.10
            tags: [server, personal-data]
            ssh:
              user: baluarte
              port: 2222
              key: "file:/keys/baluarte_ed25519"
              key_passphrase: "env:WIRE_TEST_PASSPHRASE"
              password: "env:WIRE_TEST_PASSWORD"
              sudo: true
              sudo_password: "keyring:baluarte/acme-sudo"
              known_hosts: /etc/baluarte/known_hosts
              host_key_checking: false
          - name: fw-hq
            platform: fortigate
            address: 192.0.2.1
            tags: [firewall]
            fortios: {token: "env:WIRE_TEST_TOKEN", vdom: root, ca_bundle: /certs/fw.pem}
          - name: fw-branch
            platform: fortigate
            address: 192.0.2.2
            fortios: {username: baluarte-ro, password: "env:WIRE_TEST_PASSWORD", verify: false}
          - name: pc-recepcion
            platform: windows
            address: 192.0.2.21
            tags: [workstation]
            winrm: {user: 'ACME\\baluarte', password: "env:WIRE_TEST_PASSWORD", auth: ntlm}
          - name: pc-cert
            platform: windows
            address: 192.0.2.22
            winrm:
              user: baluarte
              auth: certificate
              certificate: /certs/client.pem
              certificate_key: "file:/certs/client.key"
collectors:
  - {name: madrid}
  - {name: sevilla}
"""
# a restic backup whose repository passwords are references too
BACKUP_POLICY = """\
id: acme-backup
version: "1"
title: ACME backups
applies_to: {platform: linux, clients: acme}
backup:
  configured:
    tool: restic
    repository: "rest:https://baluarte@backup.acme.example:8000/srv-files"
    password: "env:WIRE_TEST_PASSWORD"
    repository_password: "env:WIRE_TEST_REST_PASSWORD"
    paths: [/etc, /srv]
"""
SECRET_ENV = (
    "WIRE_TEST_PASSPHRASE",
    "WIRE_TEST_PASSWORD",
    "WIRE_TEST_TOKEN",
    "WIRE_TEST_REST_PASSWORD",
)


def wired(doc: dict[str, Any]) -> Any:
    """``doc`` as the other side reads it off the broker."""
    return json.loads(json.dumps(doc))


def assert_same_plan(got: DevicePlan, want: DevicePlan) -> None:
    assert got.ref == want.ref  # by key only: the models are compared one by one below
    assert got.ref.device == want.ref.device
    assert got.ref.site.model_dump(exclude={"devices"}) == want.ref.site.model_dump(
        exclude={"devices"}
    )
    assert got.ref.site.devices == (want.ref.device,)
    assert got.ref.client.model_dump(exclude={"sites"}) == want.ref.client.model_dump(
        exclude={"sites"}
    )
    assert got.ref.client.sites == (got.ref.site,)
    assert got.ref.collector == want.ref.collector
    assert got.controls == want.controls  # control (catalogue entry), params model, policy id
    for mine, theirs in zip(got.controls, want.controls, strict=True):
        assert type(mine.params) is type(theirs.params)


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in SECRET_ENV:
        monkeypatch.setenv(name, CANARY)
    yield
    forget_secrets()  # resolve() registers the canary process-wide


@pytest.fixture
def fleet_plans(tmp_path: Path, secret_env: None) -> list[DevicePlan]:
    (tmp_path / "inventory.yaml").write_text(INVENTORY)
    policies = tmp_path / "policies"
    policies.mkdir()
    for name in ("linux-baseline", "windows-baseline", "fortigate-baseline"):
        (policies / f"{name}.yaml").write_text((ROOT / "policies" / f"{name}.yaml").read_text())
    (policies / "acme-backup.yaml").write_text(BACKUP_POLICY)
    inputs = load_inputs([tmp_path / "inventory.yaml"], policies, default_waivers=False)
    return plan(inputs.inventory, inputs.policies, site="hq")


# -- plans -------------------------------------------------------------------------------------


def test_the_repository_demo_plans_round_trip() -> None:
    inputs = load_inputs(
        [ROOT / "inventory"], ROOT / "policies", ROOT / "policies" / "waivers.yaml"
    )
    plans = plan(inputs.inventory, inputs.policies)
    assert plans and all(p.controls for p in plans)
    for device_plan in plans:
        assert_same_plan(plan_from_document(wired(plan_document(device_plan))), device_plan)


def test_every_platform_round_trips_with_its_references_never_their_values(
    fleet_plans: list[DevicePlan],
) -> None:
    assert {p.ref.platform for p in fleet_plans} == {"linux", "windows", "fortigate"}
    for device_plan in fleet_plans:
        doc = plan_document(device_plan)
        text = json.dumps(doc)
        assert CANARY not in text
        assert doc["key"] == device_plan.ref.key
        # only the device's own site and the device itself travel
        assert [s["name"] for s in doc["client"]["sites"]] == ["hq"]
        assert [d["name"] for d in doc["client"]["sites"][0]["devices"]] == [device_plan.ref.name]
        assert_same_plan(plan_from_document(json.loads(text)), device_plan)

    by_name = {p.ref.name: p for p in fleet_plans}
    srv = plan_document(by_name["srv-files"])
    ssh = srv["client"]["sites"][0]["devices"][0]["ssh"]
    assert ssh["key"] == "file:/keys/baluarte_ed25519"
    assert ssh["key_passphrase"] == "env:WIRE_TEST_PASSPHRASE"
    assert ssh["sudo_password"] == "keyring:baluarte/acme-sudo"
    backup = next(c for c in srv["controls"] if c["control"] == "backup.configured")
    assert backup["policy"] == "acme-backup"
    assert backup["params"]["password"] == "env:WIRE_TEST_PASSWORD"
    assert backup["params"]["repository_password"] == "env:WIRE_TEST_REST_PASSWORD"
    cert = plan_document(by_name["pc-cert"])["client"]["sites"][0]["devices"][0]["winrm"]
    assert cert["certificate_key"] == "file:/certs/client.key"
    token = plan_document(by_name["fw-hq"])["client"]["sites"][0]["devices"][0]["fortios"]
    assert token["token"] == "env:WIRE_TEST_TOKEN"


def test_the_rebuilt_plan_resolves_its_secrets_on_the_collector(
    fleet_plans: list[DevicePlan],
) -> None:
    srv = next(p for p in fleet_plans if p.ref.name == "srv-files")
    rebuilt = plan_from_document(wired(plan_document(srv)))
    ssh = rebuilt.ref.device.ssh
    assert ssh is not None and ssh.password is not None and ssh.key is not None
    assert isinstance(ssh.password, SecretRef)
    assert resolve(ssh.password) == CANARY  # read where the collector runs, from its env
    assert ssh.key.path == Path("/keys/baluarte_ed25519")
    assert rebuilt.domains() == srv.domains()


def _device(doc: dict[str, Any]) -> dict[str, Any]:
    device: dict[str, Any] = doc["client"]["sites"][0]["devices"][0]
    return device


def _drop(data: dict[str, Any], key: str) -> None:
    del data[key]


def _control(doc: dict[str, Any], control: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in doc["controls"] if c["control"] == control)
    return found


BAD_PLANS: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "not an object": (lambda d: [d], "must be a JSON object"),
    "unknown top key": (lambda d: {**d, "extra": 1}, "unknown keys 'extra'"),
    "no controls": (lambda d: {"client": d["client"]}, "lacks the keys controls"),
    "controls not a list": (lambda d: {**d, "controls": {}}, "controls must be a list"),
    "client extra key": (
        lambda d: d["client"].update(owner="x"),
        "the plan's client: owner: Extra inputs are not permitted",
    ),
    "device extra key": (
        lambda d: _device(d).update(colour="red"),
        "sites.0.devices.0.colour: Extra inputs",
    ),
    "two sites": (
        lambda d: d["client"]["sites"].append({**d["client"]["sites"][0], "name": "b"}),
        "exactly one site",
    ),
    "key of another device": (
        lambda d: d.update(key="demo/local/other"),
        "the plan's key 'demo/local/other' is not its device's, demo/local/this-machine",
    ),
    "no key": (lambda d: _drop(d, "key"), "the plan lacks the keys key"),
    "no device": (lambda d: d["client"]["sites"][0].update(devices=[]), "exactly one device"),
    "no sites": (lambda d: d["client"].update(sites=[]), "at least one entry is needed"),
    "bad platform": (lambda d: _device(d).update(platform="bsd"), "devices.0.platform"),
    "port a boolean": (lambda d: _device(d).update(port=True), "port: expected a whole number"),
    "literal secret": (
        lambda d: _device(d).update(ssh={"password": "hunter2-literal"}),
        "credentials must be referenced",
    ),
    "unknown control": (
        lambda d: d["controls"][0].update(control="patching.nonsense"),
        "no control named 'patching.nonsense'",
    ),
    "control not a string": (lambda d: d["controls"][0].update(control=7), "a number"),
    "control extra key": (lambda d: d["controls"][0].update(why="x"), "unknown keys 'why'"),
    "params extra key": (
        lambda d: _control(d, "patching.updates_pending")["params"].update(min=1),
        "patching.updates_pending's params: min: Extra inputs are not permitted",
    ),
    "params wrong type": (
        lambda d: _control(d, "patching.updates_pending")["params"].update(max="many"),
        "params: max:",
    ),
    "params not an object": (
        lambda d: _control(d, "patching.updates_pending").update(params=None),
        "params must be an object",
    ),
    "params of another control": (
        lambda d: _control(d, "patching.updates_pending").update(
            params=_control(d, "access.ssh_root_login")["params"]
        ),
        "allowed: Extra inputs",
    ),
    "policy not an id": (
        lambda d: d["controls"][0].update(policy="two words"),
        "is not a valid name",
    ),
    "policy missing": (lambda d: _drop(d["controls"][0], "policy"), "lacks the keys policy"),
}


@pytest.fixture(scope="module")
def demo_plan_doc() -> dict[str, Any]:
    inputs = load_inputs(
        [ROOT / "inventory"], ROOT / "policies", ROOT / "policies" / "waivers.yaml"
    )
    doc: dict[str, Any] = wired(plan_document(plan(inputs.inventory, inputs.policies)[0]))
    return doc


@pytest.mark.parametrize("case", sorted(BAD_PLANS))
def test_a_malformed_plan_document_is_refused_saying_why(
    case: str, demo_plan_doc: dict[str, Any]
) -> None:
    doc = copy.deepcopy(demo_plan_doc)
    change, why = BAD_PLANS[case]
    replaced = change(doc)  # None: ``doc`` was changed in place
    with pytest.raises(ValueError) as caught:
        plan_from_document(doc if replaced is None else replaced)
    assert why in str(caught.value)
    assert "hunter2-literal" not in str(caught.value)


# -- collected facts ---------------------------------------------------------------------------


def windows_result(name: str = "office-pc") -> Collected:
    state = json.loads((ROOT / "baluarte/lab/windows/states" / f"{name}.json").read_text())
    return windows_collected(validate(json.dumps(state["output"])), round_trips=3, seconds=1.25)


def fortigate_result(name: str = "small-office") -> Collected:
    state = json.loads((ROOT / "baluarte/lab/fortigate/states" / f"{name}.json").read_text())
    return fortigate_collected(snapshot_from_state(state, now=NOW), round_trips=14, seconds=0.5)


def findings_of(device_plan: DevicePlan, result: Collected | DeviceError) -> list[Finding]:
    return evaluate_device(
        device_plan,
        result,
        collected_domains=("patching", "firewall", "endpoint", "backup", "access", "logging"),
        waivers=WaiverSet(()),
        now=NOW,
    )


def comparable(findings: list[Finding]) -> list[tuple[str, str, str | None, str | None, Any]]:
    return [(f.control, f.status, f.observed, f.reason, f.evidence) for f in findings]


@pytest.mark.parametrize(
    ("platform", "result"),
    [("windows", windows_result), ("fortigate", fortigate_result)],
    ids=["windows", "fortigate"],
)
def test_collected_facts_round_trip_and_evaluate_the_same(
    fleet_plans: list[DevicePlan], platform: str, result: Callable[[], Collected]
) -> None:
    original = result()
    assert len(original.facts) >= 5
    assert (original.raw is not None) == (platform == "fortigate")
    doc = collected_document(original)
    assert "raw" not in doc
    back = collected_from_document(wired(doc))
    assert back.identity == original.identity
    assert back.facts == original.facts
    assert {d: type(f) for d, f in back.facts.items()} == {
        d: type(f) for d, f in original.facts.items()
    }
    assert (back.problems, back.notes) == (original.problems, original.notes)
    assert (back.round_trips, back.seconds) == (original.round_trips, original.seconds)
    assert back.raw is None
    device_plan = next(p for p in fleet_plans if p.ref.platform == platform)
    assert comparable(findings_of(device_plan, back)) == comparable(
        findings_of(device_plan, original)
    )


def test_problems_and_notes_travel() -> None:
    original = Collected(
        identity=HostIdentity(hostname="srv", os_id="debian", login_method="publickey"),
        facts={},
        problems={"patching": "could not parse the patching facts: no apt"},
        notes={"access": "note: 2 byte(s) the host printed were not UTF-8"},
        round_trips=1,
        seconds=0.0,
    )
    back = collected_from_document(wired(collected_document(original)))
    assert back == original


def test_secrets_resolved_by_the_collector_are_masked_before_they_leave() -> None:
    # the central side never resolved them, so only the collector can mask them
    original = windows_result()
    patching = original.facts["patching"]
    leaked = patching.model_copy(update={"os_name": f"Windows pw={CANARY}"})
    result = original.model_copy(
        update={
            "facts": {**original.facts, "patching": leaked},
            "problems": {"backup": f'tool said "{CANARY}"'},
            "identity": original.identity.model_copy(update={"hostname": CANARY}),
        }
    )
    register_secret(CANARY)
    try:
        doc = collected_document(result)
    finally:
        forget_secrets()
    text = json.dumps(doc)
    assert CANARY not in text
    assert doc["facts"]["patching"]["os_name"] == "Windows pw=***"
    assert doc["problems"] == {"backup": 'tool said "***"'}
    assert collected_from_document(wired(doc)).identity.hostname == "***"


def test_what_the_remote_machine_says_is_made_inert() -> None:
    doc = wired(collected_document(windows_result()))
    doc["identity"]["hostname"] = "PC\x1b[2J"
    doc["facts"]["patching"]["os_name"] = "Windows \u202eevil"
    doc["problems"]["logging"] = "bad\x07"
    doc["notes"]["access"] = "note\x9b"
    back = collected_from_document(doc)
    assert back.identity.hostname == "PC\\x1b[2J"
    assert back.facts["patching"].os_name == "Windows \\u202eevil"
    assert back.problems["logging"] == "bad\\x07"
    assert back.notes["access"] == "note\\x9b"


def _facts(d: dict[str, Any], domain: str) -> dict[str, Any]:
    facts: dict[str, Any] = d["facts"][domain]
    return facts


BAD_COLLECTED: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "unknown domain": (
        lambda d: d["facts"].update(printers={}),
        "unknown domain 'printers'",
    ),
    "facts not an object": (
        lambda d: d["facts"].update(patching=[1]),
        "the patching facts must be a JSON object",
    ),
    "number as text": (
        lambda d: _facts(d, "access")["password_policy"].update(min_length="14"),
        "the access facts: password_policy.min_length: Input should be a valid integer",
    ),
    "boolean as text": (
        lambda d: _facts(d, "firewall").update(active="yes"),
        "the firewall facts: active: Input should be a valid boolean",
    ),
    "list for a text": (
        lambda d: _facts(d, "endpoint")["products"][0].update(product=["defender"]),
        "the endpoint facts: products.0.product",
    ),
    "unknown fact": (
        lambda d: _facts(d, "backup").update(bonus=True),
        "the backup facts: bonus: Extra inputs are not permitted",
    ),
    "missing fact": (
        lambda d: _drop(_facts(d, "logging"), "time_sync"),
        "the logging facts: time_sync: Field required",
    ),
    "bad date": (
        lambda d: _facts(d, "patching").update(last_update="yesterday"),
        "the patching facts: last_update",
    ),
    "identity extra": (
        lambda d: d["identity"].update(owner="x"),
        "the collected identity: owner: Extra inputs",
    ),
    "problem of unknown domain": (
        lambda d: d["problems"].update(printers="jam"),
        "the collected problems name an unknown domain 'printers'",
    ),
    "problem not text": (
        lambda d: d["problems"].update(patching=1),
        "problems of patching must be a string",
    ),
    "round_trips boolean": (lambda d: d.update(round_trips=True), "round_trips must be"),
    "seconds negative": (lambda d: d.update(seconds=-1), "seconds must be"),
    "seconds not finite": (lambda d: d.update(seconds=float("nan")), "seconds must be"),
    "raw sent": (lambda d: d.update(raw={}), "unknown keys 'raw'"),
    "no facts": (lambda d: _drop(d, "facts"), "lacks the keys facts"),
}


@pytest.fixture(scope="module")
def windows_doc() -> dict[str, Any]:
    doc: dict[str, Any] = wired(collected_document(windows_result()))
    return doc


@pytest.mark.parametrize("case", sorted(BAD_COLLECTED))
def test_a_malformed_collected_document_is_refused_naming_what(
    case: str, windows_doc: dict[str, Any]
) -> None:
    doc = copy.deepcopy(windows_doc)
    change, why = BAD_COLLECTED[case]
    change(doc)
    with pytest.raises(ValueError) as caught:
        collected_from_document(doc)
    assert why in str(caught.value)


def test_a_collected_document_that_is_not_an_object_is_refused() -> None:
    docs: tuple[object, ...] = (None, [], "facts", 3)
    for doc in docs:
        with pytest.raises(ValueError, match="the collected document must be a JSON object"):
            collected_from_document(doc)


def test_facts_that_are_not_the_domain_model_are_not_sent() -> None:
    original = windows_result()
    wrong = original.model_copy(update={"facts": {"patching": original.facts["firewall"]}})
    with pytest.raises(ValueError, match="the patching facts are a FirewallFacts, not PatchFacts"):
        collected_document(wrong)


# -- device errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [Unreachable, AuthFailed, TimedOut, BadAnswer, DeviceError])
def test_device_errors_round_trip_by_kind(kind: type[DeviceError]) -> None:
    doc = error_document(kind("connection refused"))
    assert doc == {"kind": kind.__name__, "message": "connection refused"}
    back = error_from_document(wired(doc))
    assert type(back) is kind and str(back) == "connection refused"


def test_a_subclass_travels_as_the_kind_it_is_one_of() -> None:
    doc = error_document(TlsVerificationFailed("certificate verify failed"))
    assert doc["kind"] == "Unreachable"
    assert type(error_from_document(doc)) is Unreachable


def test_error_messages_are_masked_when_sent_and_inert_when_received() -> None:
    register_secret(CANARY)
    try:
        doc = error_document(AuthFailed(f"bad header b'Bearer {CANARY}'"))
    finally:
        forget_secrets()
    assert CANARY not in json.dumps(doc)
    back = error_from_document({"kind": "BadAnswer", "message": "odd\x1b]0;title\x07"})
    assert str(back) == "odd\\x1b]0;title\\x07"


@pytest.mark.parametrize(
    ("doc", "why"),
    [
        ({"kind": "Exploded", "message": "x"}, "kind 'Exploded' is not one of"),
        ({"kind": "ValueError", "message": "x"}, "is not one of"),
        ({"kind": 3, "message": "x"}, "kind a number is not one of"),
        ({"kind": "TimedOut", "message": None}, "message must be a string"),
        ({"kind": "TimedOut"}, "lacks the keys message"),
        ({"kind": "TimedOut", "message": "x", "trace": ""}, "unknown keys 'trace'"),
        ("TimedOut", "must be a JSON object"),
    ],
)
def test_a_malformed_error_document_is_refused(doc: object, why: str) -> None:
    with pytest.raises(ValueError) as caught:
        error_from_document(doc)
    assert why in str(caught.value)
