# mypy: disallow-untyped-calls=False
"""The SSH worker process (``python -m baluarte.transports.ssh_worker``): pyinfra lives here.

gevent's monkey-patching must come before anything imports socket or ssl, so ``main`` patches
first and imports the rest afterwards. The job arrives as one JSON document on stdin (secrets
travel there); its ``kind`` picks the work: ``scripts`` (``run_jobs``) or ``deploys``
(``run_deploys``). Each host's answer is one JSON line on stdout, written as the host finishes.

Every remote command is built by ``ssh_remote`` (the sudo password on stdin, never on a command
line; a supervisor on the host that stops the command when the connection goes). SIGTERM from
the parent (``baluarte.interrupts``) is a request to stop: ``STOP``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from baluarte.transports.ssh import FailureKind, SshTarget

# One answer (a pydantic model) → one line on stdout.
Emit = Callable[[Any], None]


def classify(message: str) -> FailureKind:
    """The kind of a connection failure, from pyinfra's message."""
    text = message.lower()
    if "authentication" in text:
        return "auth"
    if "host key" in text or "not found in known_hosts" in text:
        return "host_key"
    if "timed out" in text or "timeout" in text:
        return "timeout"
    return "unreachable"


def host_data(target: SshTarget) -> dict[str, Any]:
    """pyinfra host data for a target; unset settings left out (pyinfra type-checks them)."""
    if target.local:
        return {}
    data: dict[str, Any] = {
        "ssh_hostname": target.hostname,
        "ssh_port": target.port,
        "ssh_user": target.user,
        "ssh_key": target.key_file,
        "ssh_key_password": target.key_password,
        "ssh_password": target.password,
        "ssh_allow_agent": False,
        "ssh_look_for_keys": False,
        "ssh_connect_retries": 0,
        # "yes" refuses unknown and changed keys; only the inventory can turn it off
        "ssh_strict_host_key_checking": "yes" if target.host_key_checking else "off",
        "ssh_known_hosts_file": target.known_hosts if target.host_key_checking else "/dev/null",
    }
    return {k: v for k, v in data.items() if v is not None}


def host_name(index: int, target: SshTarget) -> str:
    return "@local" if target.local else f"h{index}"


def close_host(host: Any) -> None:
    """Close the host's SSH connection: pyinfra's disconnect leaves paramiko's open."""
    client = getattr(host.connector, "client", None)
    if client is not None and hasattr(client, "close"):
        client.close()


def login_method(host: Any) -> str:
    """The SSH authentication method that succeeded on the host's connection ("" if none)."""
    client = getattr(host.connector, "client", None)
    transport = client.get_transport() if client is not None else None
    if transport is None or not transport.is_authenticated():
        return ""
    return str(getattr(transport.auth_handler, "auth_method", "") or "")


class Stop:
    """The parent's SIGTERM. The first stops starting work (and, with ``abort_first``, aborts
    work in flight); the second aborts work in flight: it closes the hosts' connections, and
    the supervisor of each remote command then stops the command on its host."""

    def __init__(self) -> None:
        self.requested = False
        self.aborted = False
        self.abort_first = True  # collection: reading can stop anywhere; apply sets False
        self.connected: set[Any] = set()

    def on_signal(self) -> None:  # pragma: no cover - runs in the worker subprocess
        import gevent

        again, self.requested = self.requested, True
        if again or self.abort_first:
            gevent.spawn(self.abort)

    def abort(self) -> None:  # pragma: no cover - runs in the worker subprocess
        self.aborted = True
        for host in list(self.connected):
            with contextlib.suppress(Exception):
                close_host(host)


STOP = Stop()


def _die_with_parent() -> None:  # pragma: no cover - runs in the worker subprocess
    """A parent killed outright (SIGKILL) sends us SIGTERM (Linux), so we stop as asked."""
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() == 1:
        STOP.requested = True


def main() -> int:  # pragma: no cover - runs in the worker subprocess
    from gevent import monkey

    monkey.patch_all()

    import logging

    import gevent
    from gevent.lock import Semaphore

    from baluarte.transports.ssh_remote import install

    gevent.signal_handler(signal.SIGTERM, STOP.on_signal)
    _die_with_parent()
    logging.getLogger("pyinfra").setLevel(logging.CRITICAL)
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)

    job: dict[str, Any] = json.loads(sys.stdin.read())
    install(float(job["command_timeout"]), local_watch=os.getpid())
    out_lock = Semaphore()

    def emit(answer: Any) -> None:
        with out_lock, contextlib.suppress(BrokenPipeError):
            sys.stdout.write(answer.model_dump_json() + "\n")
            sys.stdout.flush()

    if job.get("kind", "scripts") == "deploys":
        from baluarte.transports.ssh_deploy import run_deploys_here

        run_deploys_here(job, emit)
    else:
        _run_scripts(job, emit)
    return 0


def _run_scripts(job: dict[str, Any], emit: Emit) -> None:  # pragma: no cover - in the worker
    """One shell command per host (``run_jobs``)."""
    import time

    import gevent
    import gevent.pool
    from pyinfra.api.command import StringCommand
    from pyinfra.api.config import Config
    from pyinfra.api.exceptions import ConnectError
    from pyinfra.api.inventory import Inventory
    from pyinfra.api.state import State
    from pyinfra.context import ctx_state

    from baluarte.transports.ssh import HostAnswer, HostJob
    from baluarte.transports.ssh_remote import feed_password

    jobs = [HostJob.model_validate(j) for j in job["jobs"]]
    connect_timeout = float(job["connect_timeout"])
    command_timeout = float(job["command_timeout"])

    hosts: list[tuple[str, dict[str, Any]]] = []
    by_name: dict[str, HostJob] = {}
    for i, host_job in enumerate(jobs):
        name = host_name(i, host_job.target)
        hosts.append((name, host_data(host_job.target)))
        by_name[name] = host_job

    config = Config(CONNECT_TIMEOUT=connect_timeout, PARALLEL=int(job["parallel"]))
    state = State(inventory=Inventory((hosts, {})), config=config)
    ctx_state.set(state)
    pool = gevent.pool.Pool(int(job["parallel"]))

    def failed(
        target: Any, started: float, failure: FailureKind, reason: str, commands: int = 0
    ) -> HostAnswer:
        return HostAnswer(
            id=target.id,
            ok=False,
            failure=failure,
            reason=reason,
            commands=commands,
            seconds=time.monotonic() - started,
        )

    def interrupted(target: Any, started: float, commands: int = 0) -> HostAnswer:
        reason = "interrupted: the run was stopped before this host answered"
        return failed(target, started, "interrupted", reason, commands)

    def attempt(host: Any, host_job: HostJob, started: float) -> HostAnswer:
        target = host_job.target
        commands = 0
        try:
            with gevent.Timeout(connect_timeout + 5, TimeoutError("connection timed out")):
                host.connect(show_errors=False, raise_exceptions=True)
            STOP.connected.add(host)
            if STOP.requested:
                return interrupted(target, started)
            kwargs: dict[str, Any] = {"_timeout": command_timeout}
            if host_job.stdin:
                kwargs["_stdin"] = list(host_job.stdin)
            if target.sudo:
                kwargs["_sudo"] = True
                if target.sudo_password:
                    kwargs["_sudo_password"] = target.sudo_password
                    feed_password(host, target.sudo_password)
            commands = 1
            with gevent.Timeout(command_timeout + 5, TimeoutError("command timed out")):
                ok, output = host.run_shell_command(StringCommand(host_job.script), **kwargs)
            if STOP.aborted:
                return interrupted(target, started, commands)
            failure: FailureKind | None = None if ok else "failed"
            reason = None if ok else "the collection command failed on the host"
            if not ok and "incorrect password attempt" in output.stderr:
                failure, reason = "auth", "sudo refused the configured sudo password"
            return HostAnswer(
                id=target.id,
                ok=ok,
                stdout=output.stdout,
                stderr=output.stderr[-4000:],
                exit_status=0 if ok else None,
                failure=failure,
                reason=reason,
                commands=commands,
                seconds=time.monotonic() - started,
                login_method=login_method(host),
            )
        except ConnectError as exc:
            message = str(exc.args[0]) if exc.args else str(exc)
            return failed(target, started, classify(message), message, commands)
        except (TimeoutError, gevent.Timeout) as exc:
            return failed(target, started, "timeout", str(exc) or "timed out", commands)
        except EOFError:
            reason = "sudo asked for a password and none is configured"
            return failed(target, started, "auth", reason, commands)
        except Exception as exc:  # a host's fault must never stop the others
            if STOP.aborted:
                return interrupted(target, started, commands)
            return failed(target, started, "failed", f"{type(exc).__name__}: {exc}", commands)

    def work(host: Any) -> None:
        host_job = by_name[host.name]
        started = time.monotonic()
        if STOP.requested:
            emit(interrupted(host_job.target, started))
            return
        try:
            answer = attempt(host, host_job, started)
        finally:
            # closing the connection also stops a timed-out command on the host (ssh_remote)
            STOP.connected.discard(host)
            close_host(host)
        emit(answer)

    for host in state.inventory:
        if STOP.requested:
            emit(interrupted(by_name[host.name].target, time.monotonic()))
            continue
        pool.spawn(work, host)
    pool.join()


if __name__ == "__main__":  # pragma: no cover
    # run as the imported module, not as __main__: ssh_deploy must see this very STOP
    from baluarte.transports import ssh_worker

    sys.exit(ssh_worker.main())
