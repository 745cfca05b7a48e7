"""FortiGate remedies over the REST API, changed safely (reference/fortios.md §6).

preview: one login per unit; read the management path Baluarte arrives on (its admin session,
the interface it comes in on, the API user's trusted hosts, admin-sport) and every object a
remedy writes; refuse a remedy that would cut the path, and plan nothing for one whose objects
changed since collection (its before-values would be wrong) or name a missing profile.
execute: the same pre-flight read, then a configuration backup (kept under the artifacts
folder, mode 0600) and a named revision, then every write in ONE batch transaction (any error
aborts it: nothing applied); after the commit every written object is re-read, and a remedy
whose values did not stick is undone with inverse writes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from baluarte.aio import stream
from baluarte.apply import DeviceWork, RemedyOutcome
from baluarte.collected import CollectOptions
from baluarte.errors import DeviceError, InputError
from baluarte.remediation import Remedy, RestWrite, Step
from baluarte.transports.fortios import FortiOSClient, FortiOSError
from checks.device_errors import plain_device_error, settings_error
from checks.fortigate.collector import _take_backup, client_for
from deploys.fortigate.firewall import PROFILE_FIELDS

__all__ = ["EXECUTOR", "FortigateExecutor", "MgmtPath", "guard"]

log = logging.getLogger(__name__)
Outcomes = list[RemedyOutcome] | DeviceError


@dataclass(frozen=True)
class MgmtPath:
    """How Baluarte reaches the unit now."""

    user: str  # the API user (or admin) of Baluarte's session
    source: str  # Baluarte's address as the unit sees it
    interface: str | None  # the interface it arrives on; None when the unit did not say
    sport: int | None  # system/global admin-sport
    trusthosts: tuple[str, ...] = ()

    def describe(self) -> str:
        return (
            f"{self.user} from {self.source or '?'} on {self.interface or '?'} "
            f"(admin-sport {self.sport}, trusthosts {', '.join(self.trusthosts) or 'none'})"
        )


def guard(w: RestWrite, path: MgmtPath) -> str | None:
    """Why this write would cut Baluarte's management path; None when it would not."""
    if w.path == "system/interface" and (path.interface is None or str(w.mkey) == path.interface):
        # Either address family may be the one Baluarte uses (an inventory name may resolve to
        # IPv6 tomorrow), so https must stay in both lists of the interface it arrives on.
        v6 = w.data.get("ipv6")
        lists = {"allowaccess": w.data.get("allowaccess")}
        lists["ipv6 ip6-allowaccess"] = v6.get("ip6-allowaccess") if isinstance(v6, dict) else None
        for name, value in lists.items():
            if value is not None and "https" not in str(value).split():
                where = path.interface or "an interface (the unit did not say which Baluarte uses)"
                return f"it removes https from the {name} of {where}, the way Baluarte arrives"
    if (
        w.path == "system/global"
        and "admin-sport" in w.data
        and w.data["admin-sport"] != path.sport
    ):
        return f"it moves the admin HTTPS port {path.sport} Baluarte connects to"
    if w.path in ("system/api-user", "system/admin") and str(w.mkey) == path.user:
        return f"it changes {path.user}, the account Baluarte logs in with"
    if w.path == "system/accprofile" or w.path == "firewall/local-in-policy":
        return f"it changes {w.path}, which may take Baluarte's access away"
    return None


@dataclass
class _Unit:
    """What one unit's pre-flight read found."""

    path: MgmtPath
    current: dict[tuple[str, str], Mapping[str, Any] | None] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)  # "antivirus/profile default"


def _key(w: RestWrite) -> tuple[str, str]:
    return w.path, "" if w.mkey is None else str(w.mkey)


def _steps(remedy: Remedy) -> tuple[Step, ...]:
    return tuple(
        Step(what=f"update {w.path}" + ("" if w.mkey is None else f" {w.mkey}"),
             commands=(w.describe(),))
        for w in remedy.requests
    )  # fmt: skip


def _first(results: Any) -> Mapping[str, Any] | None:
    if isinstance(results, list):
        return results[0] if results and isinstance(results[0], Mapping) else None
    return results if isinstance(results, Mapping) else None


async def _mgmt_path(client: FortiOSClient) -> MgmtPath:
    admins = (await client.get_monitor("system/current-admins", global_scope=True)).results
    me = next((a for a in admins or [] if isinstance(a, Mapping) and a.get("is_current")), None)
    if me is None:
        raise DeviceError("the unit did not show Baluarte's own session (current-admins)")
    user, source = str(me.get("admin", "")), str(me.get("srcaddr", ""))
    glob = _first((await client.get_cmdb("system/global", global_scope=True)).results) or {}
    ifaces = (await client.get_cmdb("system/interface", global_scope=True)).results or []
    names = [str(r.get("name")) for r in ifaces if isinstance(r, Mapping)]
    answers = await asyncio.gather(*(
        client.get_monitor("system/interface-connected-admins-info", global_scope=True,
                           params={"interface": n})
        for n in names
    ))  # fmt: skip
    here = [
        n
        for n, a in zip(names, answers, strict=True)
        if isinstance(a.results, Mapping) and a.results.get("current_admin_connected")
    ]
    hosts: tuple[str, ...] = ()
    try:
        row = _first((await client.get_cmdb("system/api-user", user, global_scope=True)).results)
    except FortiOSError:  # an admin, not an API user (session login)
        row = None
    if row is not None:
        hosts = tuple(
            str(t.get("ipv4-trusthost") or t.get("ipv6-trusthost"))
            for t in row.get("trusthost") or []
            if isinstance(t, Mapping)
        )
    sport = glob.get("admin-sport")
    return MgmtPath(
        user=user,
        source=source,
        interface=here[0] if len(here) == 1 else None,
        sport=sport if isinstance(sport, int) else None,
        trusthosts=hosts,
    )


async def _read_objects(client: FortiOSClient, writes: Sequence[RestWrite], unit: _Unit) -> None:
    """The current values of every written object, and which referenced profiles are missing."""
    wanted = {_key(w): w for w in writes}
    profiles = {
        (table, str(w.data[name]))
        for w in writes
        if w.path == "firewall/policy"
        for name, table in PROFILE_FIELDS.values()
        if w.data.get(name)
    }

    async def one(w: RestWrite) -> None:
        env = await client.get_cmdb(w.path, w.mkey, global_scope=w.global_scope)
        unit.current[_key(w)] = _first(env.results)

    async def profile(table: str, name: str) -> None:
        try:
            await client.get_cmdb(table, name)
        except FortiOSError as exc:
            if exc.http_status != 404:
                raise
            unit.missing.add(f"{table} {name}")

    await asyncio.gather(*(one(w) for w in wanted.values()),
                         *(profile(t, n) for t, n in profiles))  # fmt: skip


def _same(want: Any, have: Any) -> bool:
    """``have`` holds ``want``: word lists in any order, member lists and objects by subset."""
    if isinstance(want, Mapping):
        return isinstance(have, Mapping) and all(_same(v, have.get(k)) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and all(any(_same(w, h) for h in have) for w in want)
    if isinstance(want, str) and isinstance(have, str):
        return sorted(want.split()) == sorted(have.split())
    return bool(want == have)


def _stale(w: RestWrite, current: Mapping[str, Any] | None) -> str | None:
    where = w.path if w.mkey is None else f"{w.path}/{w.mkey}"
    if current is None:
        return f"{where} is not on the unit"
    for key, before in w.before.items():
        if before is not None and not _same(before, current.get(key)):
            return f"{where} {key} is now {current.get(key)!r}, not {before!r} as collected"
    return None


def _judge(cid: str, remedy: Remedy, unit: _Unit) -> tuple[str, str]:
    """(refused reason, why it cannot be planned) for one remedy; empty when it can go."""
    for w in remedy.requests:
        if (why := guard(w, unit.path)) is not None:
            return f"lockout guard: {why} ({unit.path.describe()})", ""
    problems = [p for w in remedy.requests if (p := _stale(w, unit.current.get(_key(w))))]
    for w in remedy.requests:
        problems += [
            f"no {table} {w.data[name]!r} on the unit to attach"
            for name, table in PROFILE_FIELDS.values()
            if w.path == "firewall/policy"
            and w.data.get(name)
            and f"{table} {w.data[name]}" in unit.missing
        ]
    return "", "; ".join(problems)


class FortigateExecutor:
    def preview(
        self, work: Sequence[DeviceWork], options: CollectOptions
    ) -> Iterator[tuple[str, Outcomes]]:
        return _each(work, options, execute=False)

    def execute(
        self, work: Sequence[DeviceWork], options: CollectOptions
    ) -> Iterator[tuple[str, Outcomes]]:
        return _each(work, options, execute=True)


def _each(
    work: Sequence[DeviceWork], options: CollectOptions, *, execute: bool
) -> Iterator[tuple[str, Outcomes]]:
    """Units worked on at once (up to --parallel), each reported as it finishes."""
    for item, outcomes in stream(
        work, lambda i: _unit(i, options, execute=execute), parallel=options.parallel
    ):
        yield item.plan.ref.key, outcomes


async def _unit(item: DeviceWork, options: CollectOptions, *, execute: bool) -> Outcomes:
    try:
        client = client_for(item.plan.ref.device, timeout=options.command_timeout)
    except InputError as exc:
        return settings_error(exc)
    try:
        async with asyncio.timeout(options.command_timeout), client:
            return await (_execute if execute else _preview)(client, item, options)
    except TimeoutError:
        return DeviceError(f"the unit did not answer within {options.command_timeout:g} s")
    except DeviceError as exc:
        return plain_device_error(exc)


async def _preflight(client: FortiOSClient, item: DeviceWork) -> _Unit:
    unit = _Unit(path=await _mgmt_path(client))
    await _read_objects(client, [w for _c, r in item.remedies for w in r.requests], unit)
    return unit


async def _preview(client: FortiOSClient, item: DeviceWork, options: CollectOptions) -> Outcomes:
    unit = await _preflight(client, item)
    out: list[RemedyOutcome] = []
    for cid, remedy in item.remedies:
        refused, problem = _judge(cid, remedy, unit)
        if refused:
            out.append(RemedyOutcome(cid, False, (), refused=refused))
        elif problem:
            out.append(RemedyOutcome(cid, False, (), detail=problem))
        else:
            out.append(RemedyOutcome(cid, bool(remedy.requests), _steps(remedy)))
    return out


def _failed(cid: str, detail: str, steps: tuple[Step, ...] = ()) -> RemedyOutcome:
    return RemedyOutcome(cid, True, steps, success=False, detail=detail)


async def _execute(client: FortiOSClient, item: DeviceWork, options: CollectOptions) -> Outcomes:
    unit = await _preflight(client, item)
    go: list[tuple[str, Remedy]] = []
    result: dict[str, RemedyOutcome] = {}
    for cid, remedy in item.remedies:
        refused, problem = _judge(cid, remedy, unit)
        if refused or problem:
            result[cid] = _failed(cid, f"not applied: {refused or problem}")
        else:
            go.append((cid, remedy))
    if go:
        result.update(await _change(client, item, options, go))
    return [result[cid] for cid, _r in item.remedies]


async def _change(
    client: FortiOSClient, item: DeviceWork, options: CollectOptions, go: list[tuple[str, Remedy]]
) -> dict[str, RemedyOutcome]:
    ref = item.plan.ref
    backup, problem, _refused = await _take_backup(client, ref, options.artifacts, strict=True)
    if backup is None:
        why = f"nothing applied: no configuration backup ({problem})"
        return {cid: _failed(cid, why) for cid, _r in go}
    stamp = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"
    try:
        saved = await client.save_revision(f"baluarte apply {stamp}")
    except FortiOSError as exc:
        why = f"nothing applied: the named revision could not be saved ({exc.reason})"
        return {cid: _failed(cid, why) for cid, _r in go}
    revision = saved.results.get("config_id") if isinstance(saved.results, Mapping) else None
    account = [
        f"backup sha256 {backup.sha256} kept at {backup.path}",
        f'revision {revision} "baluarte apply {stamp}"',
    ]
    writes = [w for _c, r in go for w in r.requests]
    try:
        async with client.transaction() as tid:
            for w in writes:
                await client.update(w.path, w.mkey, dict(w.data), global_scope=w.global_scope)
    except FortiOSError as exc:
        why = "; ".join([*account, f"transaction aborted, nothing applied: {exc.reason}"])
        return {cid: _failed(cid, why) for cid, _r in go}
    account.append(f"transaction {tid} committed: {len(writes)} PUTs")
    after = _Unit(path=MgmtPath("", "", None, None))
    await _read_objects(client, writes, after)
    out: dict[str, RemedyOutcome] = {}
    undo: list[tuple[str, Remedy, list[str]]] = []
    for cid, remedy in go:
        wrong = [
            f"{w.path}{'' if w.mkey is None else '/' + str(w.mkey)} {k} reads "
            f"{(after.current.get(_key(w)) or {}).get(k)!r}, not {v!r}"
            for w in remedy.requests
            for k, v in w.data.items()
            if not _same(v, (after.current.get(_key(w)) or {}).get(k))
        ]
        if wrong:
            undo.append((cid, remedy, wrong))
        else:
            puts = [w.describe() for w in remedy.requests]
            text = "; ".join([*account, "verified: every written value re-read", *puts])
            out[cid] = RemedyOutcome(cid, True, _steps(remedy), success=True, detail=text)
    if undo:
        out.update(await _undo(client, undo, account))
    return out


def _inverse(w: RestWrite) -> RestWrite:
    data = {k: v for k, v in w.before.items() if v is not None}
    return RestWrite(path=w.path, mkey=w.mkey, data=data, before=dict(w.data),
                     global_scope=w.global_scope)  # fmt: skip


async def _undo(
    client: FortiOSClient, undo: list[tuple[str, Remedy, list[str]]], account: list[str]
) -> dict[str, RemedyOutcome]:
    """Write back the before-values of remedies that did not stick, newest write first."""
    inverse = [(cid, _inverse(w)) for cid, r, _ in undo for w in reversed(r.requests)]
    inverse = [(cid, w) for cid, w in inverse if w.data]  # nothing known to write back
    try:
        async with client.transaction() as tid:
            for _cid, w in inverse:
                await client.update(w.path, w.mkey, dict(w.data), global_scope=w.global_scope)
        undone = f"verification failed, undone (transaction {tid})"
    except FortiOSError as exc:
        undone = f"verification failed, and the undo failed too: {exc.reason}"
        log.warning("undo failed: %s", exc.reason)
    out = {}
    for cid, remedy, wrong in undo:
        mine = [w for c, w in inverse if c == cid]
        steps = _steps(remedy) + tuple(
            Step(what=f"undo {w.path}", commands=(w.describe(),)) for w in mine
        )
        detail = "; ".join([undone, *wrong, *account, *(w.describe() for w in mine)])
        out[cid] = _failed(cid, detail, steps)
    return out


EXECUTOR = FortigateExecutor()
