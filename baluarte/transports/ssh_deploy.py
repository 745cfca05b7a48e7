# mypy: disallow-untyped-calls=False
"""Worker side of ``run_deploys``: plan or apply pyinfra operations, one greenlet per host.

Imported only inside the SSH worker, after gevent's monkey-patching. Every call is one new
``State`` (pyinfra's is single-use). Per host: connect, ``add_op`` each operation (pyinfra reads
facts and decides ``will_change``), then either preview the exact commands (plan) or run the
operations in order with ``run_host_op`` (apply), stopping at the first failure as pyinfra does.

``state.is_executing`` is never set: operations run through ``run_host_op`` host by host, so a
host that has planned can apply while another is still planning, without pyinfra's per-op
barrier. (That flag only makes ``add_op`` execute at once and enables ``_if``, which we refuse.)

Interrupted (``STOP``): a host not started is answered with every operation not run; a host
planning stops planning; a host applying lets its operation in flight finish and runs no more
(each later one is ``not run``). A second signal closes the connections: the operation in flight
fails (its supervisor stops it on the host) and is reported as interrupted.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import re
import time
from typing import Any

import gevent
import gevent.pool
from pyinfra.api.command import (
    FileDownloadCommand,
    FileUploadCommand,
    FunctionCommand,
    StringCommand,
)
from pyinfra.api.config import Config
from pyinfra.api.exceptions import ConnectError
from pyinfra.api.inventory import Inventory
from pyinfra.api.operation import add_op
from pyinfra.api.operations import run_host_op
from pyinfra.api.state import State
from pyinfra.context import ctx_host, ctx_state

from baluarte.masking import Masker
from baluarte.remediation import OpSpec
from baluarte.transports.ssh import DeployAnswer, DeployJob, FailureKind, OpOutcome
from baluarte.transports.ssh_remote import feed_password
from baluarte.transports.ssh_worker import STOP, Emit, classify, close_host, host_data, host_name

__all__ = ["run_deploys_here"]

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_TAIL = 4000
_PREFIX = re.compile(r"^\[[^\]]*\]\s*")
# pyinfra's own per-call arguments an OpSpec may set; the rest (_sudo, _if, _ignore_errors,
# _timeout, ...) are the transport's to decide, or would hide a failure.
_ALLOWED_GLOBALS = frozenset({"_chdir", "_env", "_success_exit_codes"})
_NOT_RUN = "not run: the apply was interrupted before it started"
_STOPPED = "interrupted while it ran: the connection was closed and the host stopped it"


class _PlanError(Exception):
    """An operation could not be resolved or planned; the message says why."""


class _HostLog(logging.Handler):
    """pyinfra's warnings and errors, kept per greenlet (= per host): why a fact failed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: dict[Any, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage().strip()
        except Exception:  # a malformed record must not break the host's work
            return
        text = _PREFIX.sub("", text)  # pyinfra's "[h0] ": our host names mean nothing outside
        if text:
            self.lines.setdefault(gevent.getcurrent(), []).append(text)

    def take(self) -> str:
        """What this greenlet logged since the last take (the end, when long)."""
        lines = self.lines.pop(gevent.getcurrent(), [])
        return "; ".join(lines)[-_TAIL:]


def _resolve(spec: OpSpec) -> Any:
    """``pyinfra.operations.<module>.<function>``, and nothing else."""
    if not _NAME.match(spec.module) or not _NAME.match(spec.function):
        raise _PlanError(f"not a pyinfra operation: {spec.module}.{spec.function}")
    try:
        module = importlib.import_module(f"pyinfra.operations.{spec.module}")
    except ImportError:
        raise _PlanError(f"no pyinfra operations module {spec.module!r}") from None
    func = getattr(module, spec.function, None)
    # operations are wrapped by @operation, which leaves the generator as `_inner`
    if func is None or not hasattr(func, "_inner"):
        raise _PlanError(f"not a pyinfra operation: {spec.module}.{spec.function}")
    return func


def _arguments(spec: OpSpec) -> dict[str, Any]:
    kwargs = dict(spec.kwargs)
    bad = sorted(k for k in kwargs if k.startswith("_") and k not in _ALLOWED_GLOBALS)
    if "name" in kwargs:
        bad.append("name")
    if bad:
        raise _PlanError(f"arguments not allowed in an operation: {', '.join(bad)}")
    if "src_text" in kwargs:
        if (spec.module, spec.function) != ("files", "put") or "src" in kwargs:
            raise _PlanError("src_text is only for files.put, instead of src")
        text = kwargs.pop("src_text")
        if not isinstance(text, str):
            raise _PlanError("src_text must be text")
        # a new file object per State: pyinfra reads it at planning and again at execution
        kwargs["src"] = io.BytesIO(text.encode())
    return kwargs


def _render(command: Any) -> str:
    """A command as a technician reads it; StringCommand masks pyinfra's own secrets."""
    if isinstance(command, StringCommand):
        return command.get_masked_value()
    if isinstance(command, FileUploadCommand):
        src = command.src if isinstance(command.src, str) else "<content>"
        return f"upload {src} -> {command.dest}"
    if isinstance(command, FileDownloadCommand):
        return f"download {command.src} -> {command.dest}"
    if isinstance(command, FunctionCommand):
        return f"python {getattr(command.function, '__name__', 'function')}()"
    return str(command)


def run_deploys_here(job: dict[str, Any], emit: Emit) -> None:  # pragma: no cover - worker
    jobs = [DeployJob.model_validate(j) for j in job["jobs"]]
    parallel = int(job["parallel"])
    connect_timeout = float(job["connect_timeout"])
    command_timeout = float(job["command_timeout"])
    host_timeout = job.get("host_timeout")

    log = _HostLog()
    pyinfra_log = logging.getLogger("pyinfra")
    pyinfra_log.setLevel(logging.WARNING)
    pyinfra_log.propagate = False  # nothing of it on the worker's stderr
    pyinfra_log.addHandler(log)

    # what is in flight finishes on the first signal: an operation half-done is worse
    STOP.abort_first = False
    hosts = [(host_name(i, j.target), host_data(j.target)) for i, j in enumerate(jobs)]
    by_name = {name: j for (name, _), j in zip(hosts, jobs, strict=True)}
    config = Config(CONNECT_TIMEOUT=connect_timeout, PARALLEL=parallel)
    state = State(inventory=Inventory((hosts, {})), config=config)
    # set once, before the greenlets: add_op restores the previous value when it returns
    ctx_state.set(state)
    pool = gevent.pool.Pool(parallel)

    def work(host: Any) -> None:
        deploy = by_name[host.name]
        if STOP.requested:
            emit(_HostRun(state, host, deploy, log, command_timeout).interrupted())
            return
        guard = host_timeout or connect_timeout + 5 + 2 * command_timeout * (len(deploy.ops) + 1)
        run = _HostRun(state, host, deploy, log, command_timeout)
        # a bare gevent.Timeout (a BaseException): pyinfra catches TimeoutError around commands
        # and would report the guard as an ordinary command failure
        timer = gevent.Timeout(guard)
        timer.start()
        try:
            answer = run.go(connect_timeout)
        except gevent.Timeout as exc:
            if exc is not timer:
                raise
            answer = run.answer(
                ok=False, failure="timeout", reason=f"the host took longer than {guard:g} s"
            )
        except Exception as exc:  # a host's fault must never stop the others
            answer = run.answer(ok=False, failure="internal", reason=f"{type(exc).__name__}: {exc}")
        finally:
            timer.close()
            # disconnect removes the askpass file a sudo password left on the host
            with contextlib.suppress(Exception, gevent.Timeout), gevent.Timeout(10):
                if host.connected and not STOP.aborted:
                    host.disconnect()
            STOP.connected.discard(host)
            close_host(host)
        emit(answer)

    for host in state.inventory:
        if STOP.requested:
            emit(_HostRun(state, host, by_name[host.name], log, command_timeout).interrupted())
            continue
        pool.spawn(work, host)
    pool.join()


class _HostRun:
    """One host's plan or apply, and what is known of each operation so far."""

    def __init__(
        self, state: Any, host: Any, deploy: DeployJob, log: _HostLog, command_timeout: float
    ) -> None:
        self.state = state
        self.host = host
        self.deploy = deploy
        self.log = log
        self.mask = Masker(deploy.target.secrets())
        self.started = time.monotonic()
        self.globals: dict[str, Any] = {"_timeout": int(max(1, command_timeout))}
        if deploy.target.sudo:
            self.globals["_sudo"] = True
            if deploy.target.sudo_password:
                self.globals["_sudo_password"] = deploy.target.sudo_password
        self.metas: list[Any] = []  # OperationMeta per op planned, in order
        self.outcomes: list[OpOutcome] = [
            OpOutcome(name=spec.name, will_change=False, commands=()) for spec in deploy.ops
        ]
        self.planning: int | None = None  # the op being planned, for a timeout's report
        self.running: int | None = None  # the op being executed, likewise

    def answer(
        self,
        *,
        ok: bool,
        failure: FailureKind | None,
        reason: str | None,
        connected: bool = True,
    ) -> DeployAnswer:
        if self.planning is not None:
            self._fail_plan(self.planning, reason or "planning stopped")
        if self.running is not None:
            self._set(self.running, success=False, error=reason or "stopped while running")
        if not ok:
            # an op never planned must not read as "nothing to change"
            for index in range(len(self.metas), len(self.outcomes)):
                if self.outcomes[index].error is None:
                    self._set(index, error=f"not planned: {reason or 'the host failed'}")
        return DeployAnswer(
            id=self.deploy.target.id,
            ok=ok,
            ops=tuple(self.outcomes) if connected else (),
            failure=failure,
            reason=self.mask(reason) if reason else None,
            seconds=time.monotonic() - self.started,
        )

    def interrupted(self) -> DeployAnswer:
        """The answer for a host the interrupt reached before anything ran on it."""
        for index in range(len(self.outcomes)):
            self._set(index, success=None, error=_NOT_RUN)
        return DeployAnswer(
            id=self.deploy.target.id,
            ok=False,
            ops=tuple(self.outcomes),
            failure="interrupted",
            reason="interrupted before anything ran on this host",
            seconds=time.monotonic() - self.started,
        )

    def _set(self, index: int, **changes: Any) -> None:
        for key in ("stdout", "stderr", "error"):
            if changes.get(key):
                changes[key] = self.mask(str(changes[key]))[-_TAIL:]
        if "commands" in changes:
            changes["commands"] = tuple(self.mask(c) for c in changes["commands"])
        self.outcomes[index] = self.outcomes[index].model_copy(update=changes)

    def go(self, connect_timeout: float) -> DeployAnswer:
        try:
            with gevent.Timeout(connect_timeout + 5, TimeoutError("connection timed out")):
                self.host.connect(show_errors=False, raise_exceptions=True)
        except ConnectError as exc:
            message = str(exc.args[0]) if exc.args else str(exc)
            failure = classify(message)
            return self.answer(ok=False, failure=failure, reason=message, connected=False)
        except TimeoutError as exc:
            return self.answer(ok=False, failure="timeout", reason=str(exc), connected=False)
        except EOFError:
            return self.answer(
                ok=False, failure="auth", reason="sudo asked for a password", connected=False
            )
        STOP.connected.add(self.host)
        target = self.deploy.target
        if target.sudo and target.sudo_password:
            feed_password(self.host, target.sudo_password)
        self.state.activate_host(self.host)
        self.log.take()  # forget anything logged while connecting
        failed = self.plan()
        if STOP.requested and (failed is not None or self.deploy.execute):
            return self.interrupted()  # nothing has run on the host yet
        if failed is not None:
            name = self.deploy.ops[failed].name
            return self.answer(ok=False, failure="failed", reason=f"could not plan {name!r}")
        if not self.deploy.execute:
            return self.answer(ok=True, failure=None, reason=None)
        failed = self.apply()
        if failed is not None and STOP.requested:
            reason = "interrupted: no operation was started after the interrupt"
            return self.answer(ok=False, failure="interrupted", reason=reason)
        if failed is not None:
            name = self.deploy.ops[failed].name
            return self.answer(ok=False, failure="failed", reason=f"operation {name!r} failed")
        return self.answer(ok=True, failure=None, reason=None)

    def plan(self) -> int | None:
        """add_op every operation (and with a plan, preview its commands); the first failure."""
        for index, spec in enumerate(self.deploy.ops):
            if STOP.requested:
                return index
            self.planning = index
            try:
                func = _resolve(spec)
                kwargs = _arguments(spec)
                results = add_op(
                    self.state, func, host=self.host, name=spec.name, **self.globals, **kwargs
                )
                meta = results[self.host]
                if self.host in self.state.failed_hosts:
                    # pyinfra failed the host on a fact and went on with the fact's default
                    raise _PlanError(self.log.take() or "pyinfra could not read a fact")
                will_change = bool(meta.will_change)
                commands: tuple[str, ...] = ()
                if will_change and not self.deploy.execute:
                    commands = self._preview(meta)
            except EOFError:
                self._fail_plan(index, "sudo asked for a password")
                return index
            except _PlanError as exc:
                self._fail_plan(index, str(exc))
                return index
            except Exception as exc:  # pyinfra raises anything from an operation or a fact
                logged = self.log.take()
                why = f"{type(exc).__name__}: {exc}" + (f" ({logged})" if logged else "")
                if self.host in self.state.failed_hosts and logged:
                    why = logged  # pyinfra's "No hosts remaining!" says less than the log
                self._fail_plan(index, why)
                return index
            self.planning = None
            self.metas.append(meta)
            self._set(index, will_change=will_change, commands=commands)
        return None

    def _preview(self, meta: Any) -> tuple[str, ...]:
        """The commands the op would run now: pyinfra runs its generator again (facts too)."""
        op_data = self.state.get_op_data_for_host(self.host, meta._hash)
        with ctx_host.use(self.host):
            commands = tuple(_render(c) for c in op_data.command_generator())
        if self.host in self.state.failed_hosts:
            raise _PlanError(self.log.take() or "pyinfra could not read a fact")
        return commands

    def _fail_plan(self, index: int, why: str) -> None:
        self.planning = None
        self._set(index, error=why)
        for later in range(index + 1, len(self.outcomes)):
            self._set(later, error="not planned: an earlier operation could not be planned")

    def apply(self) -> int | None:
        """Run the planned operations in order; the index of the one that failed."""
        for index, meta in enumerate(self.metas):
            if STOP.requested:  # the operation before this one has finished
                for later in range(index, len(self.outcomes)):
                    self._set(later, error=_NOT_RUN)
                return index
            self.running = index
            raised: str | None = None
            try:
                with ctx_host.use(self.host):
                    ok = run_host_op(self.state, self.host, meta._hash)
            except Exception as exc:  # e.g. a fact failing again while the op runs
                logged = self.log.take()
                raised = f"{type(exc).__name__}: {exc}" + (f" ({logged})" if logged else "")
                ok = False
            self.running = None
            self._record(index, meta, ok, raised)
            if not ok:
                return index
        return None

    def _record(self, index: int, meta: Any, ok: bool, raised: str | None) -> None:
        complete = meta.is_complete()
        commands = tuple(_render(c) for c in (meta._commands or ())) if complete else ()
        stdout = meta.stdout if complete else ""
        stderr = meta.stderr if complete else ""
        logged = self.log.take()
        if ok and self.host in self.state.failed_hosts:
            # a fact failed while the op ran: what it did rests on a default, not the host
            ok, raised = False, logged or "pyinfra could not read a fact"
        error = None
        if not ok:
            last = stderr.strip().splitlines()[-1:] or [logged or "no output"]
            ran = f" running {commands[-1]!r}" if commands else ""
            error = raised or f"failed{ran}: {last[0]}"
            if STOP.aborted:
                error = f"{_STOPPED} ({error})"
        self._set(
            index,
            success=ok,
            changed=bool(ok and complete and meta.did_change()),
            commands=commands,
            stdout=stdout,
            stderr=stderr,
            error=error,
        )
