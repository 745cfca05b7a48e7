"""Gather an evidence pack's content from the store: runs, scope, input files, chain, backups.

The store's whole chain is checked first: a broken one is never gathered into a pack. Nothing
here writes: ``pack.write_pack`` turns a ``Gathered`` into files. With a pseudonym key the data
is redacted here, before any renderer sees it (``personal`` says which values), and so are the
disclosed parts of the runs' records.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from baluarte.errors import InputError, StoreError
from baluarte.evidence.data import EvidenceData, Lang, PackFile
from baluarte.evidence.personal import personal_values
from baluarte.evidence.record import Part, part_fields
from baluarte.evidence.redact import Redactor, mask_config
from baluarte.evidence.seal import TrustedKeys
from baluarte.history import client_runs
from baluarte.posture import DeviceKey, posture_at, posture_trend
from baluarte.posture_drift import posture_drift
from baluarte.run import InputFile, RunRecord
from baluarte.store import Store
from baluarte.store._chain import BrokenChain, ChainCheck, unsigned_after_signed
from baluarte.store.store import Checked, RecordSeal
from baluarte.timezones import DEFAULT_TIMEZONE, client_zone, day_bounds, zone

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["STEP_GATHER", "Backup", "Gathered", "gather"]

BACKUP_CONTROL = "backup.config_saved"
STEP_GATHER = "gathering runs"  # told to ``on_step`` once the chain is checked
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backup:
    """A configuration backup a ``backup.config_saved`` finding names."""

    run_id: int
    device: str
    sha256: str  # as the finding recorded it
    recorded_path: str
    text: str | None  # masked (and redacted) content; None when not included
    status: str  # "included" | "missing" | "changed" | "no artifacts folder"
    note: str | None = None  # where it was looked for, when it is missing or changed


@dataclass(frozen=True)
class Gathered:
    data: EvidenceData
    records: dict[int, bytes | None]  # chain link → its record in the pack (None: not)
    record_notes: dict[int, str]  # why a link's record is not in the pack
    inventory: dict[str, Any]  # inventory.json
    backups: tuple[Backup, ...]
    notes: tuple[str, ...] = field(default=())
    # the client's runs with a format 2 record: what gives their parts as the pack discloses
    # them, each leaf with its salt (``{"parts": [...]}``), or every part by the run's salt;
    # called when the pack is written, not before its report is laid out
    parts: dict[int, Callable[[], dict[str, Any]]] = field(default_factory=dict)
    seals: dict[int, RecordSeal] = field(default_factory=dict)  # chain link → format, signature
    check: ChainCheck | None = None  # the store's whole chain, checked before gathering
    redact: Redactor | None = None  # with --redact: what turns any text of the pack inert


def gather(
    store: Store,
    client: str,
    *,
    start: date | None = None,
    end: date | None = None,
    lang: Lang = "es",
    operator: str,
    pseudonym_key: bytes | None = None,
    artifacts: Path | None = None,
    keys: TrustedKeys | None = None,
    signing_key: Ed25519PrivateKey | None = None,
    require_signed: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> Gathered:
    """Everything a pack of ``client`` over ``[start, end]`` (whole days in the client's zone)
    holds.

    The store's whole chain is checked first (signatures against ``keys``, the trusted public
    keys): BrokenChain when history was changed, so a pack never signs an edited run;
    ``require_signed``: an unsigned run after a signed one is a broken link too.
    ``signing_key``: the provider's key, when at hand: runs whose verified tag holds are checked
    by their stored record, not rebuilt (``baluarte/store/_verified.py``).
    ``on_step`` is told when the chain is checked and the runs are being gathered (progress).
    """
    if start is not None and end is not None and start > end:
        raise InputError(f"--from {start} is after --to {end}", code="wrong_value")
    with store.remembering():  # the runs checked are the runs packed, read once
        return _gather(
            store,
            client,
            start=start,
            end=end,
            lang=lang,
            operator=operator,
            pseudonym_key=pseudonym_key,
            artifacts=artifacts,
            keys=keys,
            signing_key=signing_key,
            require_signed=require_signed,
            on_step=on_step,
        )


def _gather(
    store: Store,
    client: str,
    *,
    start: date | None,
    end: date | None,
    lang: Lang,
    operator: str,
    pseudonym_key: bytes | None,
    artifacts: Path | None,
    keys: TrustedKeys | None,
    signing_key: Ed25519PrivateKey | None,
    require_signed: bool,
    on_step: Callable[[str], None] | None,
) -> Gathered:
    checked: dict[int, Checked] = {}
    check = store.check_chain(keys, signing_key=signing_key, checked=checked)
    if require_signed:
        check.problems += unsigned_after_signed(check)
    if check.problems:
        raise BrokenChain(check.problems)
    if any(c.retag is not None for c in checked.values()):
        try:  # the next export takes these runs as they are; a read-only store only re-seals
            store.keep_tags(checked)
        except StoreError as exc:
            log.info("verified tags not kept: %s", exc)
    if on_step is not None:
        on_step(STEP_GATHER)
    # the period's days are the client's: its zone as its newest run read it
    since, until = day_bounds(start, end, client_zone(store, client).name)
    runs = client_runs(store, client, start=since, end=until)
    if not runs:
        raise InputError(
            f"no complete run of client {client!r} in the period", code="wrong_value", key="client"
        )
    inv_doc, devices, legal_name, addresses = _scope(client, runs[-1])
    files = _files(runs)
    backups = _backups(runs, artifacts)
    links = store.chain(since, until)
    seals = store.seals([link.run_id for link in links])
    sealed = {
        link.run_id
        for link in links
        if link.run_id in seals and seals[link.run_id].format == 2 and link.run_id in checked
    }
    # a format 1 record is the whole run in one document: only in a pack of its one client
    alone = {r.info.id for r in runs if r.info.scope.get("client") == client}
    records: dict[int, bytes | None] = {}
    notes: dict[int, str] = {}
    for link in links:
        if link.run_id in sealed:
            records[link.run_id] = checked[link.run_id].record  # format 2: no personal data
            continue
        if pseudonym_key is not None:
            notes[link.run_id] = "redacted pack: the (format 1) record holds personal data"
        elif link.run_id not in alone and not _only_of(store, link.run_id, client):
            notes[link.run_id] = (
                "not a run of this client alone in the period (its format 1 record holds "
                "other data)"
            )
        records[link.run_id] = None if link.run_id in notes else store.canonical(link.run_id)

    redactor = None
    if pseudonym_key is not None:
        redactor = _redactor(
            pseudonym_key, runs, devices, operator, inv_doc["verified"], files, addresses
        )
        runs = [redactor.run(r) for r in runs]
        devices = [redactor.data(d) for d in devices]
        inv_doc = redactor.data(inv_doc)
        files = [
            PackFile(
                role=f.role,
                path=redactor.text(f.path),
                sha256=f.sha256,
                text=None if f.text is None else redactor.text(f.text),
            )
            for f in files
        ]
        backups = [
            Backup(
                b.run_id,
                redactor.text(b.device),
                b.sha256,
                redactor.text(b.recorded_path),
                None if b.text is None else redactor.text(b.text),
                b.status,
                None if b.note is None else redactor.text(b.note),
            )
            for b in backups
        ]
        operator = redactor.text(operator)
    # In scope: the devices the newest run's inventory lists (when its files are unchanged);
    # without a verified inventory, every device the period observed.
    in_scope: dict[DeviceKey, str] | None = None
    # the client's zone as its newest run's inventory names it (unchanged files), else default
    tz: str = inv_doc.get("timezone") or DEFAULT_TIMEZONE
    if inv_doc["verified"]:
        in_scope = {(d["client"], d["site"], d["device"]): d["platform"] for d in devices}
    posture = posture_at(runs, None, in_scope)
    data = EvidenceData(
        client=client,
        legal_name=legal_name,
        period_from=start,
        period_to=end,
        lang=lang,
        generated_at=datetime.now(UTC),
        tool_version=_tool_version(),
        operator=operator,
        runs=tuple(runs),
        devices_in_scope=tuple(devices),
        files=tuple(files),
        drift=posture_drift(runs, in_scope, posture),
        trend=tuple(posture_trend(runs, *_trend_days(runs, start, end, tz), in_scope, zone(tz))),
        chain=tuple(links),
        redacted=pseudonym_key is not None,
        declared_devices=inv_doc.get("declared_devices"),
        inventory_attestation=inv_doc.get("inventory_attestation"),
        timezone=tz,
        posture=posture,
    )
    ours = {r.info.id for r in runs}
    parts = {
        run_id: _disclosed(store, checked[run_id], run_id, client, redactor)
        for run_id in sealed
        if run_id in ours
    }
    return Gathered(
        data,
        records,
        notes,
        inv_doc,
        tuple(backups),
        parts=parts,
        seals=seals,
        check=check,
        redact=redactor,
    )


def _trend_days(
    runs: Sequence[RunRecord], start: date | None, end: date | None, tz: str
) -> tuple[date, date]:
    """The trend's first and last day: the period asked, else the days its runs span (in the
    client's zone); never past today."""
    here = zone(tz)
    first = start or runs[0].info.started_at.astimezone(here).date()
    last = min(end or runs[-1].info.started_at.astimezone(here).date(), datetime.now(here).date())
    return first, max(first, last)


def _disclosed(
    store: Store, checked: Checked, run_id: int, client: str, redactor: Redactor | None
) -> Callable[[], dict[str, Any]]:
    """The parts of a run a pack of ``client`` shows: the run's details and the client's
    findings and remediations.

    A run wholly the client's, in a pack without redaction, discloses them all by the run's
    salt (each leaf's salt derives from it): its fields, with nothing to hide from this pack,
    and nothing to seal here. Otherwise each leaf with its own salt, only of the client's
    parts; with a redactor, each leaf it would change is shown redacted, by its hash only (its
    salt stays in the store).
    """
    stored = store.stored_run(run_id)
    if redactor is None and checked.salt is not None and _wholly(stored, client):
        return partial(_by_salt, checked.salt, stored)
    sealed = checked.sealed or store.sealed(run_id)
    assert sealed is not None  # a format 2 run: its record salt is stored
    out = []
    for part in sealed.parts:
        leaf = part.leaves.get("client")
        if part.name != "info" and (leaf is None or json.loads(leaf.value) != client):
            continue  # another client's: only its hash, in the record
        out.append({"part": part.name, "leaves": _leaves(part, redactor)})
    return partial(dict, parts=out)


def _by_salt(salt: str, run: RunRecord) -> dict[str, Any]:
    return {
        "salt": salt,
        "parts": [{"part": name, "fields": fields} for name, fields in part_fields(run)],
    }


def _wholly(run: RunRecord, client: str) -> bool:
    return all(f.client == client for f in run.findings) and all(
        r.client == client for r in run.remediations
    )


def _leaves(part: Part, redactor: Redactor | None) -> dict[str, dict[str, Any]]:
    leaves: dict[str, dict[str, Any]] = {}
    for name, leaf in part.leaves.items():
        if redactor is not None:
            value = json.loads(leaf.value)
            shown = redactor.data(value, name.rsplit(".", 1)[-1])
            if shown != value:
                leaves[name] = {"sha256": leaf.sha256, "redacted": shown}
                continue
        leaves[name] = {"salt": leaf.salt, "value": leaf.value}
    return leaves


def _only_of(store: Store, run_id: int, client: str) -> bool:
    """Whether a run holds findings and changes of ``client`` alone: a run scoped with
    --device, --site or --tags to its devices, whose (format 1) record a pack of it may hold."""
    run = store.stored_run(run_id)
    return bool(run.findings or run.remediations) and _wholly(run, client)


def _tool_version() -> str:
    try:
        return version("baluarte")
    except PackageNotFoundError:
        return "unknown"


def _sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _scope(
    client: str, run: RunRecord
) -> tuple[dict[str, Any], list[dict[str, Any]], str | None, dict[str, str]]:
    """inventory.json from the last run's inventory files, only when they are unchanged; and
    each device's address (never in the pack: for redaction only)."""
    from baluarte.inventory import load_inventory  # the loader pulls in YAML parsing

    inv_files = [f for f in run.info.files if f.role == "inventory"]
    doc: dict[str, Any] = {
        "client": client,
        "run_id": run.info.id,
        "inventory_sha256": run.info.inventory_sha256,
        "files": [{"path": f.path, "sha256": f.sha256} for f in inv_files],
        "verified": False,
        "problems": [],
        "devices": [],
    }
    problems: list[str] = doc["problems"]
    for f in inv_files:
        now = _sha256_of(Path(f.path))
        if now is None:
            problems.append(f"{f.path}: missing or unreadable now")
        elif now != f.sha256:
            problems.append(f"{f.path}: changed since run {run.info.id} (sha256 now {now})")
    if not inv_files:
        problems.append(f"run {run.info.id} recorded no inventory file")
    if problems:
        return doc, [], None, {}
    try:
        inventory = load_inventory([Path(f.path) for f in inv_files])
    except InputError as exc:
        problems.append(f"the inventory no longer loads: {exc}")
        return doc, [], None, {}
    found = [c for c in inventory.clients if c.name == client]
    if not found:
        problems.append(f"client {client!r} is not in the inventory files")
        return doc, [], None, {}
    devices = [
        {
            "client": client,
            "site": site.name,
            "device": d.name,
            "platform": str(d.platform),
            "tags": list(d.tags),
            # how it is reached: the method text names the transports actually used
            "local": d.is_local,
        }
        for site in found[0].sites
        for d in site.devices
    ]
    doc.update(
        verified=True,
        legal_name=found[0].legal_name,
        devices=devices,
        declared_devices=found[0].declared_devices,
        inventory_attestation=found[0].inventory_attestation,
        timezone=found[0].timezone,
    )
    addresses = {d.name: d.address for site in found[0].sites for d in site.devices}
    return doc, devices, found[0].legal_name, addresses


def _files(runs: Sequence[RunRecord]) -> list[PackFile]:
    """Every policy, waiver and inventory file the runs read, with its text when unchanged."""
    seen: dict[tuple[str, str, str], InputFile] = {}
    for run in runs:
        for f in run.info.files:
            seen.setdefault((f.role, f.path, f.sha256), f)
    out = []
    for f in seen.values():
        path = Path(f.path)
        text = None
        if _sha256_of(path) == f.sha256:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = None
        out.append(PackFile(role=f.role, path=f.path, sha256=f.sha256, text=text))
    return out


_FIELD = re.compile(r"^(sha256|path) (.+)$", re.MULTILINE)


def _backups(runs: Sequence[RunRecord], artifacts: Path | None) -> list[Backup]:
    out = []
    for run in runs:
        for f in run.findings:
            fields = dict(_FIELD.findall(f.evidence or "")) if f.control == BACKUP_CONTROL else {}
            if "sha256" not in fields or "path" not in fields:
                continue
            digest, recorded = fields["sha256"], fields["path"]
            if artifacts is None:
                out.append(
                    Backup(run.info.id, f.device, digest, recorded, None, "no artifacts folder")
                )
                continue
            # The collector keeps backups at <artifacts>/fortigate/<client>/<site>/<device>/; the
            # recorded path is absolute on the machine that ran the check, so look there by name.
            path = artifacts / "fortigate" / f.client / f.site / f.device / Path(recorded).name
            text, status = _backup_text(path, digest)
            note = None
            if status == "missing":
                note = f"not found at {path}"
            elif status == "changed":
                note = f"{path} differs from the recorded sha256"
            out.append(Backup(run.info.id, f.device, digest, recorded, text, status, note))
    return out


def _backup_text(path: Path, digest: str) -> tuple[str | None, str]:
    try:
        data = path.read_bytes()
    except OSError:
        return None, "missing"
    if hashlib.sha256(data).hexdigest() != digest:
        return None, "changed"
    return mask_config(data.decode("utf-8", "replace")), "included"


def _redactor(
    key: bytes,
    runs: Sequence[RunRecord],
    devices: Sequence[dict[str, Any]],
    operator: str,
    inventory_verified: bool,
    files: Sequence[PackFile],
    addresses: dict[str, str],
) -> Redactor:
    found = personal_values(
        runs,
        devices,
        operator=operator,
        inventory_verified=inventory_verified,
        waiver_texts=[f.text for f in files if f.role == "waivers" and f.text is not None],
        policy_texts=[f.text for f in files if f.role == "policy" and f.text is not None],
        addresses=addresses,
    )
    return Redactor(key, found.users, found.hosts)
