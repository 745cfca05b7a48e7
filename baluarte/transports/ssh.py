"""Run one shell script on many Linux hosts through pyinfra, one round trip per host.

pyinfra is used as a library here and nowhere else. It needs gevent's monkey-patching before
anything imports socket or ssl, keeps process-global context, and its ``State`` is single-use,
so it runs in a worker process of its own (``python -m baluarte.transports.ssh``): the parent
writes one job as JSON on the worker's stdin (secrets travel there, never in argv or the
environment) and reads one JSON line per host as each host finishes, so results stream and a
killed run keeps what was done.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["HostAnswer", "HostJob", "SshTarget", "prestart", "run_jobs"]

FailureKind = Literal["unreachable", "auth", "host_key", "timeout", "failed", "internal"]


class SshTarget(BaseModel):
    """Where and how to run: resolved connection settings (secrets already read)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    local: bool = False  # the machine Baluarte runs on (pyinfra's @local)
    hostname: str = ""
    port: int = 22
    user: str = "root"
    key_file: str | None = None
    key_password: str | None = None
    password: str | None = None
    known_hosts: str | None = None
    host_key_checking: bool = True
    sudo: bool = False
    sudo_password: str | None = None


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


class _Worker:
    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BALUARTE_SECRET")}
        env["PYINFRA_PROGRESS"] = "off"
        # a file, not a pipe: a chatty worker never blocks; closed in stop()
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "baluarte.transports.ssh"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=env,
            start_new_session=True,  # no controlling tty: a sudo prompt fails instead of blocking
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> str:
        """End the worker; return the last line it wrote on stderr."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
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
        _spare.stop()
        _spare = None


def run_jobs(
    jobs: Sequence[HostJob],
    *,
    parallel: int = 20,
    connect_timeout: float = 10.0,
    command_timeout: float = 120.0,
) -> Iterator[HostAnswer]:
    """Yield one answer per target, in the order hosts finish. Never raises for a host's fault."""
    global _spare
    if not jobs:
        return
    job = {
        "jobs": [j.model_dump() for j in jobs],
        "parallel": max(1, parallel),
        "connect_timeout": connect_timeout,
        "command_timeout": command_timeout,
    }
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
            answer = HostAnswer.model_validate_json(line)
            seen.add(answer.id)
            yield answer
    except BrokenPipeError:
        pass  # the worker died before reading its job: every host is reported below
    finally:
        stderr = worker.stop()
    for host_job in jobs:
        if host_job.target.id not in seen:
            yield HostAnswer(
                id=host_job.target.id,
                ok=False,
                failure="internal",
                reason="the SSH worker stopped before answering for this host"
                + (f": {stderr}" if stderr else ""),
            )


# --- the worker process ------------------------------------------------------------------------


def _classify(message: str) -> FailureKind:
    text = message.lower()
    if "authentication" in text:
        return "auth"
    if "host key" in text or "not found in known_hosts" in text:
        return "host_key"
    if "timed out" in text or "timeout" in text:
        return "timeout"
    return "unreachable"


def _worker_main() -> int:  # pragma: no cover - exercised through run_script in subprocesses
    from gevent import monkey

    monkey.patch_all()

    import logging

    import gevent
    import gevent.pool
    from gevent.lock import Semaphore
    from pyinfra.api.command import StringCommand
    from pyinfra.api.config import Config
    from pyinfra.api.exceptions import ConnectError
    from pyinfra.api.inventory import Inventory
    from pyinfra.api.state import State
    from pyinfra.context import ctx_state

    logging.getLogger("pyinfra").setLevel(logging.CRITICAL)
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)

    job: dict[str, Any] = json.loads(sys.stdin.read())
    jobs = [HostJob.model_validate(j) for j in job["jobs"]]
    connect_timeout = float(job["connect_timeout"])
    command_timeout = float(job["command_timeout"])
    out_lock = Semaphore()

    def emit(answer: HostAnswer) -> None:
        with out_lock:
            sys.stdout.write(answer.model_dump_json() + "\n")
            sys.stdout.flush()

    hosts: list[tuple[str, dict[str, Any]]] = []
    by_name: dict[str, HostJob] = {}
    for i, host_job in enumerate(jobs):
        t = host_job.target
        name = "@local" if t.local else f"h{i}"
        data: dict[str, Any] = {}
        if not t.local:
            data = {
                "ssh_hostname": t.hostname,
                "ssh_port": t.port,
                "ssh_user": t.user,
                "ssh_key": t.key_file,
                "ssh_key_password": t.key_password,
                "ssh_password": t.password,
                "ssh_allow_agent": False,
                "ssh_look_for_keys": False,
                "ssh_connect_retries": 0,
                # "yes" refuses unknown and changed keys; only the inventory can turn it off
                "ssh_strict_host_key_checking": "yes" if t.host_key_checking else "off",
                "ssh_known_hosts_file": t.known_hosts if t.host_key_checking else "/dev/null",
            }
        # pyinfra type-checks host data: leave unset settings out rather than None
        hosts.append((name, {k: v for k, v in data.items() if v is not None}))
        by_name[name] = host_job

    config = Config(CONNECT_TIMEOUT=connect_timeout, PARALLEL=int(job["parallel"]))
    state = State(inventory=Inventory((hosts, {})), config=config)
    ctx_state.set(state)
    pool = gevent.pool.Pool(int(job["parallel"]))

    def work(host: Any) -> None:
        host_job = by_name[host.name]
        target = host_job.target
        started = time.monotonic()
        commands = 0
        try:
            with gevent.Timeout(connect_timeout + 5, TimeoutError("connection timed out")):
                host.connect(show_errors=False, raise_exceptions=True)
            kwargs: dict[str, Any] = {"_timeout": command_timeout}
            if host_job.stdin:
                kwargs["_stdin"] = list(host_job.stdin)
            if target.sudo:
                kwargs["_sudo"] = True
                if target.sudo_password:
                    kwargs["_sudo_password"] = target.sudo_password
            commands = 1
            with gevent.Timeout(command_timeout + 5, TimeoutError("command timed out")):
                ok, output = host.run_shell_command(StringCommand(host_job.script), **kwargs)
            status = 0 if ok else None
            emit(
                HostAnswer(
                    id=target.id,
                    ok=ok,
                    stdout=output.stdout,
                    stderr=output.stderr[-4000:],
                    exit_status=status,
                    failure=None if ok else "failed",
                    reason=None if ok else "the collection command failed on the host",
                    commands=commands,
                    seconds=time.monotonic() - started,
                )
            )
        except ConnectError as exc:
            message = str(exc.args[0]) if exc.args else str(exc)
            emit(
                HostAnswer(
                    id=target.id,
                    ok=False,
                    failure=_classify(message),
                    reason=message,
                    commands=commands,
                    seconds=time.monotonic() - started,
                )
            )
        except (TimeoutError, gevent.Timeout) as exc:
            emit(
                HostAnswer(
                    id=target.id,
                    ok=False,
                    failure="timeout",
                    reason=str(exc) or "timed out",
                    commands=commands,
                    seconds=time.monotonic() - started,
                )
            )
        except EOFError:
            emit(
                HostAnswer(
                    id=target.id,
                    ok=False,
                    failure="auth",
                    reason="sudo asked for a password and none is configured",
                    commands=commands,
                    seconds=time.monotonic() - started,
                )
            )
        except Exception as exc:  # a host's fault must never stop the others
            emit(
                HostAnswer(
                    id=target.id,
                    ok=False,
                    failure="failed",
                    reason=f"{type(exc).__name__}: {exc}",
                    commands=commands,
                    seconds=time.monotonic() - started,
                )
            )
        finally:
            client = getattr(host.connector, "client", None)
            if client is not None and hasattr(client, "close"):
                client.close()  # pyinfra's disconnect leaves paramiko connections open

    for host in state.inventory:
        pool.spawn(work, host)
    pool.join()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_worker_main())
