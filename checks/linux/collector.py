"""Linux collector: one bundled script per host over SSH (or @local), parsed into typed facts."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from baluarte.collected import Collected, CollectOptions, HostIdentity
from baluarte.errors import AuthFailed, BadAnswer, DeviceError, InputError, TimedOut, Unreachable
from baluarte.inventory import DeviceRef
from baluarte.masking import Masker, mask_url_credentials
from baluarte.plan import DevicePlan
from baluarte.secrets import resolve
from baluarte.text import inert, inert_facts, inert_model
from baluarte.transports.ssh import HostAnswer, HostJob, SshTarget, run_jobs
from checks.linux.bundle import (
    LINUX_DOMAINS,
    SCHEMA,
    Settings,
    collection_script,
    decoding_notes,
)

__all__ = ["DOMAINS", "collect", "parse_document", "settings_for", "target_for", "to_device_error"]

DOMAINS = LINUX_DOMAINS
_MODULES = {d: importlib.import_module(f"checks.linux.{d}") for d in DOMAINS}
_PARSERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], Any]] = {
    d: m.parse for d, m in _MODULES.items()
}
_FAILURES: dict[str, type[DeviceError]] = {
    "unreachable": Unreachable,
    "auth": AuthFailed,
    "host_key": Unreachable,
    "timeout": TimedOut,
}


def _is_local(address: str) -> bool:
    return address in ("@local", "local")


def target_for(ref: DeviceRef) -> SshTarget:
    """Connection settings with secrets read now, at the last moment (never stored)."""
    device = ref.device
    if _is_local(device.address):
        return SshTarget(id=ref.key, local=True)
    ssh = device.ssh
    if ssh is None:
        return SshTarget(id=ref.key, hostname=device.address, port=device.port or 22)
    key_file = None
    if ssh.key is not None:
        key_ref = str(ssh.key)
        # The key reference names a file: pyinfra wants the path, not the key material.
        key_file = str(Path(key_ref.removeprefix("file:")).expanduser())
    return SshTarget(
        id=ref.key,
        hostname=device.address,
        port=ssh.port or device.port or 22,
        user=ssh.user,
        key_file=key_file,
        key_password=resolve(ssh.key_passphrase) if ssh.key_passphrase else None,
        password=resolve(ssh.password) if ssh.password else None,
        known_hosts=str(Path(ssh.known_hosts).expanduser()) if ssh.known_hosts else None,
        host_key_checking=ssh.host_key_checking,
        sudo=ssh.sudo,
        sudo_password=resolve(ssh.sudo_password) if ssh.sudo_password else None,
    )


def parse_document(text: str) -> Collected:
    """The script's one JSON document → identity and per-domain facts. Raises BadAnswer."""
    # Login shells may print banners or rc-file noise first: the document starts at its schema.
    start = text.find('{"schema":')
    if start < 0:
        raise BadAnswer("the collection script printed no JSON document")
    try:
        doc = json.loads(text[start:])
    except json.JSONDecodeError as exc:
        raise BadAnswer(f"the collection script's output is not valid JSON ({exc.msg})") from exc
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise BadAnswer(f"unexpected collection document (schema {SCHEMA} expected)")
    host = doc.get("host") if isinstance(doc.get("host"), dict) else {}
    assert isinstance(host, dict)
    facts: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for domain, parse in _PARSERS.items():
        raw = doc.get(domain)
        if not isinstance(raw, dict):
            problems[domain] = f"the device's answer has no '{domain}' section"
            continue
        try:
            facts[domain] = parse(raw, host)
        except (ValueError, KeyError, TypeError) as exc:
            problems[domain] = f"could not parse the {domain} facts: {exc}"
    # package, process and file names are the host's to choose: facts carry them inert
    return Collected(
        identity=inert_model(_identity(host)),
        facts=inert_facts(facts),
        problems={domain: inert(why) for domain, why in problems.items()},
        notes=decoding_notes(doc),
    )


def _identity(host: dict[str, Any]) -> HostIdentity:
    def out(key: str) -> str:
        item = host.get(key)
        return str(item.get("out", "")).strip() if isinstance(item, dict) else ""

    os_release: dict[str, str] = {}
    for line in out("os_release").splitlines():
        k, _, v = line.partition("=")
        os_release[k.strip()] = v.strip().strip('"')
    return HostIdentity(
        hostname=out("hostname"),
        os=os_release.get("PRETTY_NAME", ""),
        os_id=os_release.get("ID", ""),
        os_version=os_release.get("VERSION_ID", ""),
        kernel=out("uname"),
        peer=out("peer"),
    )


def to_device_error(failure: str | None, reason: str | None, stderr: str = "") -> DeviceError:
    """The SSH worker's failure kind and reason as the DeviceError findings name."""
    kind = _FAILURES.get(failure or "", DeviceError)
    detail = reason or "unknown failure"
    if failure == "failed" and stderr.strip():
        detail += f": {stderr.strip().splitlines()[-1]}"
    return kind(detail)


def _masked(answer: HostAnswer, mask: Masker) -> HostAnswer:
    """The answer with every secret this host was sent masked: whatever the host echoes (an
    error naming its command line, a tool printing its input) must not reach a finding."""
    texts = {"stdout": answer.stdout, "stderr": answer.stderr, "reason": answer.reason}
    # credentials written into URLs (a backup repository, a log collector) are masked too
    return answer.model_copy(
        update={k: mask_url_credentials(mask(v)) for k, v in texts.items() if v}
    )


def _to_result(answer: HostAnswer) -> Collected | DeviceError:
    if not answer.ok:
        return to_device_error(answer.failure, answer.reason, answer.stderr)
    try:
        collected = parse_document(answer.stdout)
    except BadAnswer as exc:
        return exc
    identity = collected.identity.model_copy(update={"login_method": answer.login_method})
    return collected.model_copy(
        update={"identity": identity, "round_trips": answer.commands, "seconds": answer.seconds}
    )


def settings_for(device_plan: DevicePlan, options: CollectOptions) -> Settings:
    """What the device's planned controls ask each domain's fragment to look at."""
    settings = Settings()
    for domain, module in _MODULES.items():
        hook = getattr(module, "settings", None)
        if hook is None:
            continue
        controls = [p for p in device_plan.controls if p.control.domain == domain]
        settings = settings.merged(hook(controls, options.restore_test))
    return settings


def collect(
    plans: Sequence[DevicePlan], options: CollectOptions
) -> Iterator[tuple[DeviceRef, Collected | DeviceError]]:
    """Yield each device with its facts, or the reason it could not be checked, as hosts finish."""
    by_key: dict[str, DeviceRef] = {}
    local: set[str] = set()
    jobs: list[HostJob] = []
    maskers: dict[str, Masker] = {}
    for device_plan in plans:
        ref = device_plan.ref
        try:
            target = target_for(ref)
            script, stdin = collection_script(DOMAINS, settings_for(device_plan, options))
        except InputError as exc:  # a secret reference that cannot be read
            yield ref, DeviceError(f"credentials unavailable: {exc.message}")
            continue
        jobs.append(HostJob(target=target, script=script, stdin=stdin))
        by_key[ref.key] = ref
        maskers[ref.key] = Masker((*target.secrets(), *stdin))
        if target.local:
            local.add(ref.key)
    for answer in run_jobs(
        jobs, parallel=options.parallel, command_timeout=options.command_timeout
    ):
        result = _to_result(_masked(answer, maskers[answer.id]))
        if answer.id in local and isinstance(result, Collected):
            # no SSH connection to @local: an SSH_CONNECTION there is the operator's own session
            identity = result.identity.model_copy(update={"peer": ""})
            result = result.model_copy(update={"identity": identity})
        yield by_key[answer.id], result
