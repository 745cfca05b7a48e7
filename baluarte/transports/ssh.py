"""Run shell scripts and pyinfra operations on many Linux hosts over SSH.

pyinfra is used as a library here and nowhere else. It needs gevent's monkey-patching before
anything imports socket or ssl, keeps process-global context, and its ``State`` is single-use,
so it runs in a worker process of its own (``python -m baluarte.transports.ssh_worker``): the
parent writes one job as JSON on the worker's stdin (secrets travel there, never in argv or the
environment) and reads one JSON line per host as each host finishes, so results stream and a
killed run keeps what was done.

On the hosts, the sudo password never appears on a command line and no command outlives the
connection or its timeout (``ssh_remote``). The worker is a helper of ``baluarte.interrupts``: a
Ctrl-C or SIGTERM of ours is passed on to it (it runs in a session of its own), it answers for
every host (``interrupted`` where it stopped) and ends; a worker that does not is killed.

``run_jobs``: one script per host (collection). ``run_deploys``: pyinfra operations per host,
planned (what would change, with the exact commands) or applied (what ran, and how it went).
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from baluarte.interrupts import helper, requested, stop_helper
from baluarte.remediation import OpSpec

__all__ = [
    "DeployAnswer",
    "DeployJob",
    "HostAnswer",
    "HostJob",
    "OpOutcome",
    "SshTarget",
    "prestart",
    "run_deploys",
    "run_jobs",
]

FailureKind = Literal[
    "unreachable", "auth", "host_key", "timeout", "failed", "internal", "interrupted"
]


class SshTarget(BaseModel):
    """Where and how to run: resolved connection settings (secrets already read)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    local: bool = False  # the machine Baluarte runs on (pyinfra's @local)
    hostname: str = ""
    port: int = 22
    user: str = "root"
    key_file: str | None = None
    key_password: str | None = Field(default=None, repr=False)
    password: str | None = Field(default=None, repr=False)
    known_hosts: str | None = None
    host_key_checking: bool = True
    sudo: bool = False
    sudo_password: str | None = Field(default=None, repr=False)

    def secrets(self) -> tuple[str, ...]:
        """The secret values set on this target, to mask in anything reported."""
        found = (self.password, self.key_password, self.sudo_password)
        return tuple(s for s in found if s)


class HostJob(BaseModel):
    """One host's work: the script to run, and the secret lines it reads from its stdin."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: SshTarget
    script: str
    stdin: tuple[str, ...] = ()  # secrets travel here, never in the command line


class HostAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    ok: bool
    stdout: str = ""
    stderr: str = ""
    exit_status: int | None = None
    failure: FailureKind | None = None
    reason: str | None = None
    commands: int = 0  # remote commands run on this host (the design promises exactly one)
    seconds: float = 0.0
    # the SSH authentication method that succeeded (publickey, password…); "" for @local
    login_method: str = ""


class DeployJob(BaseModel):
    """One host's pyinfra operations, in order: planned only, or executed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: SshTarget
    ops: tuple[OpSpec, ...]
    execute: bool  # False: plan only (nothing changes on the host)


class OpOutcome(BaseModel):
    """One operation on one host: its plan, and with ``execute`` how it ran."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str  # OpSpec.name
    will_change: bool  # pyinfra says the op has something to do
    commands: tuple[str, ...]  # plan: the exact commands it would run; apply: the ones it ran
    success: bool | None = None  # apply only; None = not run (an earlier op failed on the host)
    changed: bool | None = None
    stdout: str = ""  # last ~4000 chars
    stderr: str = ""
    error: str | None = None  # why it failed, or why it could not be planned


class DeployAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    ok: bool  # connected and every op planned / succeeded
    ops: tuple[OpOutcome, ...] = ()  # one per OpSpec; empty when the host was not reached
    failure: FailureKind | None = None
    reason: str | None = None
    seconds: float = 0.0


class _Worker:
    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BALUARTE_SECRET")}
        env["PYINFRA_PROGRESS"] = "off"
        # a file, not a pipe: a chatty worker never blocks; closed in stop()
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "baluarte.transports.ssh_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=env,
            start_new_session=True,  # no controlling tty: a sudo prompt fails instead of blocking
        )
        helper(self.proc)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, *, graceful: bool | None = None) -> str:
        """End the worker; return the last line it wrote on stderr.

        Interrupted, it is given the time to close its connections (which stops what it ran on
        the hosts); otherwise it has answered for every host, or we gave up on it.
        """
        if graceful is None:
            graceful = requested() is not None
        stop_helper(self.proc, graceful=graceful)
        self.stderr.seek(0)
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        self.stderr.close()
        return lines[-1] if lines else ""


_spare: _Worker | None = None


def prestart() -> None:
    """Start a worker now, so its imports (gevent, pyinfra) overlap with the caller's set-up.

    The next ``run_jobs`` uses it; an unused one exits when this process does.
    """
    global _spare
    if _spare is None:
        _spare = _Worker()
        atexit.register(_discard_spare)


def _discard_spare() -> None:
    global _spare
    if _spare is not None:
        _spare.stop(graceful=False)  # it never had a job: nothing of it runs anywhere
        _spare = None


def run_jobs(
    jobs: Sequence[HostJob],
    *,
    parallel: int = 20,
    connect_timeout: float = 10.0,
    command_timeout: float = 120.0,
) -> Iterator[HostAnswer]:
    """Yield one answer per target, in the order hosts finish. Never raises for a host's fault."""
    job = {
        "kind": "scripts",
        "jobs": [j.model_dump() for j in jobs],
        "parallel": max(1, parallel),
        "connect_timeout": connect_timeout,
        "command_timeout": command_timeout,
    }

    def lost(target: SshTarget, why: str) -> HostAnswer:
        return HostAnswer(id=target.id, ok=False, failure="internal", reason=why)

    yield from _exchange(job, [j.target for j in jobs], HostAnswer.model_validate_json, lost)


def run_deploys(
    jobs: Sequence[DeployJob],
    *,
    parallel: int = 20,
    command_timeout: float = 600.0,
    connect_timeout: float = 10.0,
    host_timeout: float | None = None,
) -> Iterator[DeployAnswer]:
    """Plan or apply each job's operations on its host; one answer per host as it finishes.

    ``command_timeout`` bounds each command an operation runs; ``host_timeout`` (default:
    generous, from the number of operations) bounds a host's whole plan or apply. Never raises
    for a host's fault.
    """
    job = {
        "kind": "deploys",
        "jobs": [j.model_dump() for j in jobs],
        "parallel": max(1, parallel),
        "connect_timeout": connect_timeout,
        "command_timeout": command_timeout,
        "host_timeout": host_timeout,
    }

    def lost(target: SshTarget, why: str) -> DeployAnswer:
        return DeployAnswer(id=target.id, ok=False, failure="internal", reason=why)

    yield from _exchange(job, [j.target for j in jobs], DeployAnswer.model_validate_json, lost)


_A = TypeVar("_A", HostAnswer, DeployAnswer)


def _exchange(
    job: dict[str, Any],
    targets: Sequence[SshTarget],
    parse: Callable[[str], _A],
    lost: Callable[[SshTarget, str], _A],
) -> Iterator[_A]:
    """Hand ``job`` to a worker, yield its answers, then one ``lost`` per target not answered."""
    global _spare
    if not targets:
        return
    worker, _spare = _spare, None
    if worker is None or not worker.alive():
        if worker is not None:
            worker.stop()
        worker = _Worker()
    proc = worker.proc
    assert proc.stdin is not None and proc.stdout is not None
    seen: set[str] = set()
    try:
        proc.stdin.write(json.dumps(job))
        proc.stdin.close()
        for line in proc.stdout:
            line = line.strip()
            if not line.startswith("{"):
                continue
            answer = parse(line)
            seen.add(answer.id)
            yield answer
    except BrokenPipeError:
        pass  # the worker died before reading its job: every host is reported below
    finally:
        stderr = worker.stop()
    for secret in {s for t in targets for s in t.secrets()}:
        stderr = stderr.replace(secret, "***")
    for target in targets:
        if target.id not in seen:
            yield lost(
                target,
                "the SSH worker stopped before answering for this host"
                + (f": {stderr}" if stderr else ""),
            )
