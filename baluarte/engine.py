"""The check pipeline: load → plan → collect → evaluate → store. The CLI is a coat over this."""

from __future__ import annotations

import getpass
import importlib
import queue
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from baluarte import __version__
from baluarte.collected import Collected, CollectOptions
from baluarte.errors import DeviceError, InputError, InputErrors
from baluarte.evaluate import evaluate_device
from baluarte.exitcodes import ExitCode
from baluarte.findings import Finding, Status
from baluarte.interrupts import Interrupted, requested
from baluarte.inventory import DeviceRef, Inventory, load_inventory
from baluarte.operator import Operator
from baluarte.plan import DevicePlan, plan
from baluarte.policy import PolicySet, load_policies
from baluarte.run import InputFile, RunKind, RunRecord
from baluarte.waivers import WaiverSet, load_waivers

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported only by commands that use it
    from baluarte.store import Store

__all__ = [
    "CheckOptions",
    "Collect",
    "Inputs",
    "PlanResult",
    "check",
    "collect_plans",
    "collector_domains",
    "default_inventory_paths",
    "exit_status",
    "load_inputs",
    "operator_name",
]

_T = TypeVar("_T")

DEFAULT_INVENTORY = Path("inventory")
DEFAULT_POLICIES = Path("policies")
DEFAULT_WAIVERS = Path("policies/waivers.yaml")


@dataclass(frozen=True)
class Inputs:
    inventory: Inventory
    policies: PolicySet
    waivers: WaiverSet

    def files(self) -> list[InputFile]:
        out = [InputFile(role="inventory", path=str(p), sha256=h) for p, h in self.inventory.files]
        out += [InputFile(role="policy", path=str(p), sha256=h) for p, h in self.policies.files]
        out += [InputFile(role="waivers", path=str(p), sha256=h) for p, h in self.waivers.files]
        return out


def default_inventory_paths() -> list[Path]:
    return [DEFAULT_INVENTORY]


def load_inputs(
    inventory: Sequence[Path] | None = None,
    policies: Path | None = None,
    waivers: Path | None = None,
    *,
    default_waivers: bool = True,
) -> Inputs:
    """Load and validate all three inputs, reporting the errors of every file at once.

    ``default_waivers``: with no ``waivers`` given, read ``./policies/waivers.yaml`` when it
    is there (the CLI's default); False: no waivers at all."""
    errors: list[InputError] = []

    def attempt(load: Callable[[], _T]) -> _T | None:
        try:
            return load()
        except InputErrors as exc:
            errors.extend(exc.errors)
        except InputError as exc:
            errors.append(exc)
        return None

    inv = attempt(lambda: load_inventory(list(inventory or default_inventory_paths())))
    pols = attempt(lambda: load_policies(policies or DEFAULT_POLICIES))
    # The default waiver file is optional; one named on the command line must exist.
    if waivers is None:
        default = DEFAULT_WAIVERS if default_waivers and DEFAULT_WAIVERS.exists() else None
        wv = attempt(lambda: load_waivers(default))
    else:
        wv = attempt(lambda: load_waivers(waivers))
    if inv is not None and wv is not None:
        errors.extend(wv.unknown_references(inv))  # a misspelt waiver would cover nothing
    if errors:
        raise InputErrors(errors)
    assert inv is not None and pols is not None and wv is not None
    return Inputs(inv, pols, wv)


def operator_name() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass
class CheckOptions:
    client: str | None = None
    site: str | None = None
    device: str | None = None
    tags: Sequence[str] | None = None
    policy: str | None = None
    parallel: int = 20
    command_timeout: float = 120.0
    restore_test: bool = False
    artifacts: Path = Path("baluarte-artifacts")
    operator: str | None = None
    operator_identity: Operator | None = None  # the person responsible (baluarte/operator.py)
    scope: dict[str, str] = field(default_factory=dict)

    def collect_options(self) -> CollectOptions:
        return CollectOptions(
            parallel=self.parallel,
            command_timeout=self.command_timeout,
            restore_test=self.restore_test,
            artifacts=self.artifacts,
        )

    def plans(self, inputs: Inputs) -> list[DevicePlan]:
        """The selected devices, each with the controls its policies enable."""
        return plan(
            inputs.inventory,
            inputs.policies,
            client=self.client,
            site=self.site,
            device=self.device,
            tags=self.tags,
            policy=self.policy,
        )


DeviceDone = Callable[[DeviceRef, list[Finding]], None]


Collector = Callable[
    [Sequence[DevicePlan], CollectOptions], Iterator[tuple[DeviceRef, Collected | DeviceError]]
]

PlanResult = tuple[DevicePlan, Collected | DeviceError | None, tuple[str, ...]]
# How a run's devices are collected: ``collect_plans`` by default; another way of reaching
# devices (site collectors, baluarte.collectors) is handed in by the command that knows it.
# It hears the run's id and yields every planned device once, as devices finish.
Collect = Callable[[Sequence[DevicePlan], CollectOptions, int], Iterator[PlanResult]]


# Per platform, the module with its collector (a new platform adds a line).
COLLECTORS: dict[str, str] = {
    "linux": "checks.linux.collector",
    "windows": "checks.windows.collector",
    "fortigate": "checks.fortigate.collector",
}


def collector_domains(platform: str) -> tuple[str, ...]:
    """The domains the platform's collector answers (none for a platform without one)."""
    entry = _collector(platform)
    return entry[1] if entry else ()


def _collector(platform: str) -> tuple[Collector, tuple[str, ...]] | None:
    """The platform's collector and the domains it answers, imported only when a device needs it
    (pypsrp, httpx and pyinfra each cost start-up time)."""
    name = COLLECTORS.get(platform)
    if name is None:
        return None
    module = importlib.import_module(name)
    return module.collect, module.DOMAINS


def check(
    inputs: Inputs,
    store: Store,
    options: CheckOptions,
    *,
    on_device: DeviceDone | None = None,
    on_start: Callable[[int], None] | None = None,
    on_run: Callable[[int], None] | None = None,
    collect: Collect | None = None,
) -> RunRecord:
    """Check every selected device; each device's findings are stored as soon as it is done.

    ``on_start`` hears how many devices the run covers, ``on_run`` the id of the run stored;
    ``collect`` reaches the devices (default: directly, ``collect_plans``).

    On a Ctrl-C or SIGTERM (``baluarte.interrupts``) it stops at once: what was stored stays,
    the run is left incomplete, and ``Interrupted`` says which run and how far it got.
    """
    plans = options.plans(inputs)
    files = inputs.files()
    run_id = store.start_run(
        kind=RunKind.CHECK,
        operator=options.operator or operator_name(),
        operator_identity=options.operator_identity,
        tool_version=__version__,
        inventory_sha256=inputs.inventory.sha256,
        files=files,
        scope=options.scope,
        devices_total=len(plans),
    )
    if on_run:
        on_run(run_id)
    if on_start:
        on_start(len(plans))

    stored = 0
    results = (
        collect(plans, options.collect_options(), run_id)
        if collect is not None
        else collect_plans(plans, options.collect_options())
    )
    for device_plan, result, domains in results:
        if requested() is not None:
            break  # what answers now was cut short by the interrupt: not a finding
        findings = evaluate_device(
            device_plan,
            result,
            collected_domains=domains,
            waivers=inputs.waivers,
            now=datetime.now(UTC),
        )
        store.add_findings(run_id, findings)
        stored += 1
        if on_device:
            on_device(device_plan.ref, findings)

    signum = requested()
    if signum is not None:
        raise Interrupted(signum, run_id, stored, len(plans))
    store.finish_run(run_id)
    return store.get_run(run_id)


def collect_plans(plans: Sequence[DevicePlan], options: CollectOptions) -> Iterator[PlanResult]:
    """Every planned device with what its collector found (None: nothing to collect) and the
    domains that collector answers, as devices finish."""
    by_platform: dict[str, list[DevicePlan]] = {}
    for device_plan in plans:
        entry = _collector(device_plan.ref.platform)
        # Nothing to collect: no collector for the platform, or no control it can answer.
        if entry is None or not (device_plan.domains() & set(entry[1])):
            yield device_plan, None, entry[1] if entry else ()
            continue
        by_platform.setdefault(device_plan.ref.platform, []).append(device_plan)
    plan_by_key = {p.ref.key: p for plans_ in by_platform.values() for p in plans_}
    for platform, ref, result in _collect_all(by_platform, options):
        entry = _collector(platform)
        assert entry is not None
        yield plan_by_key[ref.key], result, entry[1]


def _collect_all(
    by_platform: dict[str, list[DevicePlan]], options: CollectOptions
) -> Iterator[tuple[str, DeviceRef, Collected | DeviceError]]:
    """Every platform's collector at once (one thread each), results as devices finish.

    Evaluation and the store stay on the caller's thread: only collection runs alongside.
    """
    results: queue.Queue[tuple[str, DeviceRef, Collected | DeviceError] | BaseException | None]
    results = queue.Queue()

    def run(platform: str, plans: list[DevicePlan]) -> None:
        entry = _collector(platform)
        assert entry is not None
        try:
            for ref, result in entry[0](plans, options):
                results.put((platform, ref, result))
        except BaseException as exc:  # re-raised on the caller's thread
            results.put(exc)
        finally:
            results.put(None)

    threads = [
        threading.Thread(target=run, args=item, name=f"collect-{item[0]}", daemon=True)
        for item in by_platform.items()
    ]
    for thread in threads:
        thread.start()
    running = len(threads)
    while running:
        try:
            item = results.get(timeout=0.2)
        except queue.Empty:
            if requested() is not None:
                return  # the collectors stop on their own; nothing more is taken from them
            continue
        if item is None:
            running -= 1
        elif isinstance(item, BaseException):
            raise item
        else:
            yield item


def exit_status(run: RunRecord) -> int:
    """DESIGN's exit codes: 3 when a device could not be read, else 1 on drift or on a result
    that could not be established from what was read (``undetermined``), else 0."""
    if any(f.unreadable for f in run.findings):
        return ExitCode.DEVICE_ERROR
    if any(f.status in (Status.FAIL, Status.ERROR) for f in run.findings):
        return ExitCode.DRIFT
    return ExitCode.COMPLIANT
