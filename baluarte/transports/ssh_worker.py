# mypy: disallow-untyped-calls=False
"""The SSH worker process (``python -m baluarte.transports.ssh_worker``): pyinfra lives here.

gevent's monkey-patching must come before anything imports socket or ssl, so ``main`` patches
first and imports the rest afterwards. The job arrives as one JSON document on stdin (secrets
travel there); its ``kind`` picks the work: ``scripts`` (``run_jobs``) or ``deploys``
(``run_deploys``). Each host's answer is one JSON line on stdout, written as the host finishes.
"""

from __future__ import annotations

import json
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


def main() -> int:  # pragma: no cover - runs in the worker subprocess
    from gevent import monkey

    monkey.patch_all()

    import logging

    from gevent.lock import Semaphore

    logging.getLogger("pyinfra").setLevel(logging.CRITICAL)
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)

    job: dict[str, Any] = json.loads(sys.stdin.read())
    out_lock = Semaphore()

    def emit(answer: Any) -> None:
        with out_lock:
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
                    login_method=login_method(host),
                )
            )
        except ConnectError as exc:
            message = str(exc.args[0]) if exc.args else str(exc)
            emit(
                HostAnswer(
                    id=target.id,
                    ok=False,
                    failure=classify(message),
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
            close_host(host)

    for host in state.inventory:
        pool.spawn(work, host)
    pool.join()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
