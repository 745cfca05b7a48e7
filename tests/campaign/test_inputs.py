"""Generated inputs for every YAML loader (issue 12, class 7): whatever a file holds, loading it
either succeeds or raises InputError naming file, line and column — never another exception.

Three generators per loader: documents built from the loader's own keys with hostile scalars
in every place (impossible dates, booleans for numbers, huge and odd numbers, YAML tags,
aliases, markup and control characters); a valid file with some of its values replaced by
those scalars (so validation, not only parsing, meets them); and byte-level mutations of a
valid file (characters inserted, deleted or replaced with those YAML gives meaning to). The example counts keep the whole module
to well under a minute; a failure prints the file that caused it.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baluarte.engine import load_inputs
from baluarte.errors import InputError, InputErrors
from baluarte.inventory import load_inventory
from baluarte.policy import load_policies

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = 200

INVENTORY = """\
clients:
  - name: acme
    legal_name: ACME Asesores S.L.
    sites:
      - name: madrid-hq
        devices:
          - name: srv-files
            platform: linux
            address: 10.0.10.5
            port: 22
            tags: [server, personal-data]
            ssh: {user: root, key: "file:~/.ssh/k", sudo: true, sudo_password: "env:SUDO"}
          - name: fw-hq
            platform: fortigate
            address: 10.0.10.1
            fortios: {token: "env:FW_TOKEN", vdom: root, verify: true}
          - name: pc-recepcion
            platform: windows
            address: 10.0.10.21
            winrm: {user: 'ACME\\baluarte', password: "keyring:baluarte/acme", auth: ntlm}
"""
ANSIBLE = (ROOT / "tests" / "unit" / "loading" / "data" / "ansible_hosts.yaml").read_text()
POLICY = (ROOT / "policies" / "linux-baseline.yaml").read_text()
FORTIGATE_POLICY = (ROOT / "policies" / "fortigate-baseline.yaml").read_text()
WAIVERS = """\
waivers:
  - control: patching.reboot_required
    client: acme
    site: madrid-hq
    devices: [srv-files]
    tags: [server]
    reason: ERP vendor certifies kernel updates monthly
    approved_by: "María López (DPO, ACME)"
    ticket: ACME-1042
    expires: 2027-01-31
"""

# Scalars as written in YAML (unquoted where YAML would read them as something else).
SCALARS = [
    "2026-02-30", "0000-01-01", "2026-13-01", "2026-02-29 25:61:00", "9999-12-31", "2027-01-31",
    "true", "false", "yes", "no", "on", "~", "null", "0", "-1", "65536", "1e999", "-.inf", ".nan",
    "0x1F", "0o17", "1_000", "99999999999999999999999", "3.14", "22", "'22'", '"2026.11"',
    "linux", "fortigate", "windows", "env:X", "file:/etc/shadow", "keyring:a/b", "@local",
    "hunter2", "'[/x]'", "'[link=https://x]y[/link]'", "'[green]PASS[/green]'", '"\\e[2J"',
    '"\\x00"', '"\\u202e"', "!!binary aGVsbG8=", "!!binary '%%%'", "!!int 'x'", "!!float 'y'",
    "!!timestamp '2026-02-30'", "!!set {a, b}", "!!omap [a: 1]", "!!python/name:os.system",
    "!custom x", "*undefined", "&anchor 7", "|\n  block\n", ">-\n  folded\n", "''", '""', "[]",
    "{}", "[a, [b, {c: d}]]", "{<<: {a: 1}}", "?", "-", ":", "'a: b'", "'#'", "é", "\U0001f600",
]  # fmt: skip
KEYS = [
    "clients", "name", "legal_name", "sites", "devices", "platform", "address", "port", "tags",
    "ssh", "user", "key", "password", "sudo", "sudo_password", "known_hosts", "fortios", "token",
    "vdom", "ca_bundle", "verify", "winrm", "auth", "https", "id", "version", "title", "extends",
    "abstract", "applies_to", "patching", "firewall", "endpoint", "backup", "access", "logging",
    "security_updates_pending", "max", "days_since_last_update", "reboot_required", "grace_days",
    "max_minutes", "admin_session_timeout", "time_sync", "max_offset_seconds", "enabled",
    "severity", "required", "allowed_inbound", "services", "protocol", "sources", "waivers",
    "control", "client", "site", "reason", "approved_by", "ticket", "expires", "all", "children",
    "hosts", "vars", "ansible_host", "ansible_port", "ansible_user", "ansible_password",
    "baluarte_client", "baluarte_site", "<<", "2026-02-30", "22", "true", "~", "? [a]",
]  # fmt: skip
SPECIAL = [
    ":", "-", " ", "\n", "\t", "[", "]", "{", "}", ",", "&a", "*a", "!!", "!", "#", "'", '"', "|",
    ">", "%", "@", "`", "? ", "<<: ", "---\n", "...\n", "\x00", "\x1b", "\ufeff", "\r", "é",
    "2026-02-30", "true",
]  # fmt: skip


def scalar() -> st.SearchStrategy[str]:
    return st.sampled_from(SCALARS) | st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
    ).map(lambda t: "'" + t.replace("'", "''") + "'")


def node(depth: int) -> st.SearchStrategy[Any]:
    """A YAML value as text-producing tree: scalar text, list of nodes, or mapping of nodes."""
    if depth <= 0:
        return scalar()
    child = node(depth - 1)
    return st.one_of(
        scalar(),
        st.lists(child, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), child, max_size=5),
    )


def emit(value: Any, indent: int = 0) -> str:
    """Block-style YAML of a generated tree, scalars written exactly as generated."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "\n" + "\n".join(
            f"{pad}{key}:{_inline(emit(v, indent + 2))}" for key, v in value.items()
        )
    if isinstance(value, list):
        if not value:
            return "[]"
        return "\n" + "\n".join(f"{pad}-{_inline(emit(v, indent + 2))}" for v in value)
    text = str(value)
    if "\n" in text:  # a block scalar: its lines indented under the key
        head, _, rest = text.partition("\n")
        return head + "\n" + "".join(f"{pad}{line}\n" for line in rest.splitlines()).rstrip("\n")
    return text


def _inline(text: str) -> str:
    return text if text.startswith("\n") else " " + text


def documents(shape: dict[str, Any]) -> st.SearchStrategy[str]:
    """Documents whose top keys are the loader's own, with generated values under them."""
    return st.fixed_dictionaries(
        {}, optional={k: node(3) if v is None else v for k, v in shape.items()}
    ).map(lambda d: emit(d).lstrip("\n") + "\n")


def mutations(valid: str) -> st.SearchStrategy[str]:
    """``valid`` with a few characters inserted, deleted or replaced."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        text = valid
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(text)))
            kind = draw(st.sampled_from(["insert", "delete", "replace"]))
            piece = draw(st.sampled_from(SPECIAL) | scalar())
            span = draw(st.integers(1, 8))
            if kind == "insert":
                text = text[:at] + piece + text[at:]
            elif kind == "delete":
                text = text[:at] + text[at + span :]
            else:
                text = text[:at] + piece + text[at + span :]
        return text

    return build()


# A plain value after "key: " (block style) or inside a flow mapping, up to the line's end or
# the next ",", "}" or "]".
_VALUE = re.compile(r"(?<=: )[^\n,{}\[\]#]+")
_ONE_LINE = [v for v in SCALARS if "\n" not in v]


def substitutions(valid: str) -> st.SearchStrategy[str]:
    """``valid`` with one to four of its values replaced by hostile scalars."""
    spans = [m.span() for m in _VALUE.finditer(valid)]

    @st.composite
    def build(draw: st.DrawFn) -> str:
        chosen = draw(st.lists(st.sampled_from(spans), min_size=1, max_size=4, unique=True))
        text = valid
        for start, end in sorted(chosen, reverse=True):
            text = text[:start] + draw(st.sampled_from(_ONE_LINE)) + text[end:]
        return text

    return build()


def hostile(valid: str) -> st.SearchStrategy[str]:
    return substitutions(valid) | mutations(valid)


class Files:
    """A scratch folder reused by every example (hypothesis runs them in one test call)."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="baluarte-campaign-")
        self.root = Path(self._dir.name)
        (self.root / "inv.yaml").write_text(INVENTORY)
        (self.root / "policies").mkdir()
        (self.root / "policies" / "linux.yaml").write_text(POLICY)
        (self.root / "waivers.yaml").write_text(WAIVERS)

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        return path

    def close(self) -> None:
        self._dir.cleanup()


@pytest.fixture(scope="module")
def files() -> Iterator[Files]:
    made = Files()
    yield made
    made.close()


def loads_or_says_where(load: Callable[[], Any], path: Path, text: str) -> None:
    """The property: success, or InputErrors each naming the file, a line and a column."""
    try:
        load()
    except InputError as exc:
        errors = list(exc.errors) if isinstance(exc, InputErrors) else [exc]
        assert errors, text
        for err in errors:
            assert err.file is not None and Path(err.file).name == path.name, (str(err), text)
            assert err.line is not None and err.column is not None, (str(err), text)
            assert err.line >= 1 and err.column >= 1, (str(err), text)
            assert "Traceback" not in str(err)
    except Exception as exc:  # the property: nothing else escapes
        pytest.fail(f"{type(exc).__name__}: {exc}\n--- input ---\n{text}")


CAMPAIGN = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same cases on every run: a failure is reproducible
)

INVENTORY_SHAPE: dict[str, Any] = {"clients": None}
ANSIBLE_SHAPE: dict[str, Any] = {"all": None}
POLICY_SHAPE: dict[str, Any] = dict.fromkeys(
    ["id", "version", "title", "extends", "abstract", "applies_to", "patching", "firewall",
     "endpoint", "backup", "access", "logging"]
)  # fmt: skip
WAIVER_SHAPE: dict[str, Any] = {"waivers": None}


def load_inventory_file(files: Files, text: str) -> None:
    path = files.write("gen-inv.yaml", text)
    loads_or_says_where(lambda: load_inventory([path]), path, text)


def load_policy_file(files: Files, text: str) -> None:
    folder = files.root / "gen-policies"
    folder.mkdir(exist_ok=True)
    path = folder / "gen.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    loads_or_says_where(lambda: load_policies(folder), path, text)


def load_waiver_file(files: Files, text: str) -> None:
    # through load_inputs: the waivers are also checked against the inventory
    path = files.write("gen-waivers.yaml", text)
    root = files.root
    loads_or_says_where(
        lambda: load_inputs([root / "inv.yaml"], root / "policies", path), path, text
    )


@CAMPAIGN
@given(text=documents(INVENTORY_SHAPE) | hostile(INVENTORY))
def test_inventory_loader(files: Files, text: str) -> None:
    load_inventory_file(files, text)


@CAMPAIGN
@given(text=documents(ANSIBLE_SHAPE) | hostile(ANSIBLE))
def test_ansible_inventory_loader(files: Files, text: str) -> None:
    load_inventory_file(files, text)


@CAMPAIGN
@given(text=documents(POLICY_SHAPE) | hostile(POLICY) | hostile(FORTIGATE_POLICY))
def test_policy_loader(files: Files, text: str) -> None:
    load_policy_file(files, text)


@CAMPAIGN
@given(text=documents(WAIVER_SHAPE) | hostile(WAIVERS))
def test_waiver_loader(files: Files, text: str) -> None:
    load_waiver_file(files, text)


HOSTILE_WAIVERS = {
    "feb-30": "waivers:\n  - {control: patching.reboot_required, client: acme, reason: r,"
    " approved_by: a, expires: 2026-02-30}\n",
    "year-0": "waivers:\n  - {control: patching.reboot_required, client: acme, reason: r,"
    " approved_by: a, expires: 0000-01-01}\n",
    "unknown-client": "waivers:\n  - {control: patching.reboot_required, client: acmee,"
    " reason: r, approved_by: a, expires: 2027-01-01}\n",
    "tagged-date": "waivers: [{expires: 2026-02-30}, {expires: !!timestamp '2026-02-30'}]\n",
    "deep": "waivers: " + "[" * 3000 + "]" * 3000 + "\n",
    "recursive-alias": "waivers: &a [*a]\n",
    "merge-alias": "waivers:\n  - &w {control: patching.reboot_required}\n  - *w\n  - <<: *w\n",
    "complex-key": "waivers:\n  - ? [a, b]\n    : c\n",
    "nul": "\x00waivers: []\n",
    "bad-binary": "waivers: !!binary '%%%'\n",
}
HOSTILE_INVENTORIES = {
    "bool-port": INVENTORY.replace("port: 22", "port: true"),
    "date-port": INVENTORY.replace("port: 22", "port: 2026-02-30"),
    "recursive-tags": INVENTORY.replace("tags: [server, personal-data]", "tags: &t [*t]"),
    "recursive-name": INVENTORY.replace("name: acme", "name: &n {a: *n}"),
    "bad-float-tag": INVENTORY.replace("address: 10.0.10.5", "address: !!float 'x'"),
    "deep-indent": "clients:\n" + "  " * 2000 + "- x\n",
    "set-key": "? !!set {a, b}\n: c\n",
    "date-key": "2026-02-30: x\n",
}
HOSTILE_POLICIES = {
    "bool-max": POLICY.replace("max: 0", "max: true", 1),
    "date-version": POLICY.replace('version: "2026.11"', "version: 2026-02-30"),
    "bool-minutes": POLICY.replace("max_hours: 26", "max_hours: true"),
    "nan-offset": POLICY + "logging:\n  time_sync: {max_offset_seconds: .nan}\n",
    "inf-offset": POLICY + "logging:\n  time_sync: {max_offset_seconds: 1e999}\n",
    "huge-int": POLICY.replace("max: 0", "max: 99999999999999999999999", 1),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_WAIVERS))
def test_known_hostile_waivers(files: Files, case: str) -> None:
    load_waiver_file(files, HOSTILE_WAIVERS[case])


@pytest.mark.parametrize("case", sorted(HOSTILE_INVENTORIES))
def test_known_hostile_inventories(files: Files, case: str) -> None:
    load_inventory_file(files, HOSTILE_INVENTORIES[case])


@pytest.mark.parametrize("case", sorted(HOSTILE_POLICIES))
def test_known_hostile_policies(files: Files, case: str) -> None:
    load_policy_file(files, HOSTILE_POLICIES[case])
