"""``baluarte lab``: emulated devices to try Baluarte (and other tools) against.

    baluarte lab serve fortigate --state fw.json --token "$TOKEN:baluarte-ro"
    # stdout, once ready:  https://127.0.0.1:PORT   then the CA certificate's path

Each subcommand group is its own Typer app joined to ``lab_app``, so ``lab capture fortigate``
(baluarte/lab/fortigate/capture.py) plugs in beside ``serve`` — see ``register``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console

from baluarte.cli.options import InventoryOpt
from baluarte.engine import default_inventory_paths
from baluarte.errors import InputError

__all__ = ["capture_app", "lab_app", "register", "serve_app"]

lab_app = typer.Typer(
    name="lab",
    help="Emulated devices (the lab) to try policies and tools against.",
    no_args_is_help=True,
)
serve_app = typer.Typer(help="Serve an emulated device until interrupted.", no_args_is_help=True)
lab_app.add_typer(serve_app, name="serve")
capture_app = typer.Typer(
    help="Record a real device's answers as a lab state file (read-only).", no_args_is_help=True
)
lab_app.add_typer(capture_app, name="capture")


class FortiosProfile(StrEnum):
    V74 = "7.4"
    V76 = "7.6"
    V64 = "6.4"


@serve_app.command("fortigate")
def serve_fortigate(
    state: Annotated[
        Path, typer.Option("--state", help="State file (JSON) of the unit to emulate.")
    ],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free port).")] = 0,
    token: Annotated[
        list[str] | None,
        typer.Option("--token", help="API token TOKEN[:API_USER] (repeatable; lab use only)."),
    ] = None,
    token_env: Annotated[
        list[str] | None,
        typer.Option(
            "--token-env",
            help="Environment variable holding a token, VAR[:API_USER] (repeatable).",
        ),
    ] = None,
    cert_dir: Annotated[
        Path | None,
        typer.Option("--cert-dir", help="Folder for the lab CA (ca.pem), reused when present."),
    ] = None,
    profile: Annotated[
        FortiosProfile, typer.Option("--profile", help="FortiOS behaviour to emulate.")
    ] = FortiosProfile.V74,
    admin: Annotated[
        str | None, typer.Option("--admin", help="Admin user for session logins.")
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option("--password-env", help="Environment variable holding --admin's password."),
    ] = None,
) -> None:
    """Serve an emulated FortiGate (FortiOS REST API over HTTPS) until Ctrl-C or SIGTERM."""
    from baluarte.lab.fortigate import FortigateLab, load_state

    tokens = _tokens(token or [], token_env or [])
    admins = _admins(admin, password_env)
    lab = FortigateLab(
        load_state(state),
        tokens=tokens,
        admins=admins,
        profile=profile.value,
        host=host,
        port=port,
        cert_dir=cert_dir,
    )
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    lab.start()
    try:
        print(lab.url, flush=True)
        print(lab.ca_path, flush=True)
        print(
            f"FortiGate lab {lab.state.serial} (FortiOS {profile.value} profile, "
            f"{len(tokens)} token(s)) — Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        lab.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class WindowsAuth(StrEnum):
    NEGOTIATE = "negotiate"
    NTLM = "ntlm"
    BASIC = "basic"


@serve_app.command("windows")
def serve_windows(
    state: Annotated[
        Path, typer.Option("--state", help="State file (JSON) of the host to emulate.")
    ],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free port).")] = 0,
    user: Annotated[str, typer.Option("--user", help="User allowed to log on.")] = "baluarte",
    password_env: Annotated[
        str, typer.Option("--password-env", help="Environment variable holding --user's password.")
    ] = "BALUARTE_LAB_PASSWORD",
    https: Annotated[
        bool, typer.Option("--https", help="Serve HTTPS (lab CA) instead of HTTP.")
    ] = False,
    cert_dir: Annotated[
        Path | None,
        typer.Option("--cert-dir", help="Folder for the lab CA (ca.pem), reused when present."),
    ] = None,
    auth: Annotated[
        WindowsAuth, typer.Option("--auth", help="Authentication to accept (no Kerberos).")
    ] = WindowsAuth.NEGOTIATE,
) -> None:
    """Serve an emulated Windows host (WinRM: WS-Management, PowerShell) until Ctrl-C/SIGTERM."""
    from baluarte.lab.windows import WindowsLab, load_state

    password = os.environ.get(password_env)
    if not password:
        raise InputError(
            f"environment variable {password_env} is not set",
            code="secret_unavailable",
            key="--password-env",
        )
    lab = WindowsLab(
        load_state(state),
        users={user: password},
        auth=auth.value,
        https=https,
        host=host,
        port=port,
        cert_dir=cert_dir,
    )
    _serve_until_stopped(lab, f"Windows lab {lab.state.hostname} ({auth.value} auth)", https)


def _serve_until_stopped(lab: Any, banner: str, show_ca: bool) -> None:
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    lab.start()
    try:
        print(lab.url, flush=True)
        if show_ca:
            print(lab.ca_path, flush=True)
        print(f"{banner} — Ctrl-C to stop", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        lab.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@capture_app.command("fortigate")
def capture_fortigate(
    device: Annotated[str, typer.Argument(help="Inventory name of the FortiGate.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="State file to write (JSON).")],
    client: Annotated[
        str | None, typer.Option("--client", help="The device's client, if names repeat.")
    ] = None,
    inventory: InventoryOpt = None,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds the capture may take.")] = 120.0,
) -> None:
    """Read a FortiGate (GETs only) and write what it answered as a state file the lab serves.

    Secrets come back from FortiOS encrypted; they are replaced by a placeholder, so the file
    can be shared. Exit codes: 0 written, 2 bad input, 3 the unit could not be read.
    """
    import json

    from baluarte.errors import DeviceError
    from baluarte.evaluate import describe_device_error
    from baluarte.exitcodes import ExitCode
    from baluarte.inventory import load_inventory
    from baluarte.lab.fortigate.capture import capture

    refs = load_inventory(list(inventory or default_inventory_paths())).select(
        client=client, device=device
    )
    if len(refs) != 1:
        clients = ", ".join(sorted(r.client_name for r in refs))
        raise InputError(
            f"device '{device}' is in several clients ({clients}): add --client", code="usage"
        )
    ref = refs[0]
    if ref.platform != "fortigate":
        raise InputError(
            f"device '{ref.key}' is a {ref.platform} device, not a fortigate",
            code="platform_mismatch",
        )
    err = Console(stderr=True)
    try:
        state, skipped = capture(ref.device, timeout=timeout)
    except DeviceError as exc:
        err.print(f"[bold red]error:[/] {ref.key}: {describe_device_error(exc)}", highlight=False)
        raise typer.Exit(ExitCode.DEVICE_ERROR) from None
    output.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n")
    read = len(state.get("global", {})) + sum(len(v) for v in state.get("vdoms", {}).values())
    read += len(state.get("monitor", {}))
    err.print(f"{ref.key}: {read} endpoints written to {output}", highlight=False)
    for key, why in sorted(skipped.items()):
        err.print(f"  skipped {key}: {why}", highlight=False)


@capture_app.command("windows")
def capture_windows(
    device: Annotated[str, typer.Argument(help="Inventory name of the Windows host.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="State file to write (JSON).")],
    client: Annotated[
        str | None, typer.Option("--client", help="The device's client, if names repeat.")
    ] = None,
    inventory: InventoryOpt = None,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds the capture may take.")] = 120.0,
) -> None:
    """Run the (read-only) check script on a Windows host and write its answer as a lab state.

    Exit codes: 0 written, 2 bad input, 3 the host could not be read.
    """
    import json

    from baluarte.errors import DeviceError
    from baluarte.evaluate import describe_device_error
    from baluarte.exitcodes import ExitCode
    from baluarte.inventory import load_inventory
    from baluarte.lab.windows.capture import capture

    refs = load_inventory(list(inventory or default_inventory_paths())).select(
        client=client, device=device
    )
    if len(refs) != 1:
        clients = ", ".join(sorted(r.client_name for r in refs))
        raise InputError(
            f"device '{device}' is in several clients ({clients}): add --client", code="usage"
        )
    ref = refs[0]
    if ref.platform != "windows":
        raise InputError(
            f"device '{ref.key}' is a {ref.platform} device, not a windows host",
            code="platform_mismatch",
        )
    err = Console(stderr=True)
    try:
        state = capture(ref.device, timeout=timeout)
    except DeviceError as exc:
        err.print(f"[bold red]error:[/] {ref.key}: {describe_device_error(exc)}", highlight=False)
        raise typer.Exit(ExitCode.DEVICE_ERROR) from None
    output.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n")
    checks = state["output"].get("checks", {})
    failed = sorted(k for k, v in checks.items() if not (isinstance(v, dict) and v.get("ok")))
    err.print(
        f"{ref.key}: {state['hostname'] or '?'} ({state['os'] or 'OS unknown'}),"
        f" {len(checks)} checks written to {output}",
        highlight=False,
    )
    for key in failed:
        why = checks[key].get("error", "") if isinstance(checks[key], dict) else ""
        err.print(f"  check {key} failed on the host: {why}", highlight=False)


def _split_user(value: str, option: str) -> tuple[str, str | None]:
    secret, _, user = value.partition(":")
    if not secret:
        raise InputError(f"{option} needs a value like NAME[:API_USER]", code="usage", key=option)
    return secret, user or None


def _tokens(given: list[str], from_env: list[str]) -> dict[str, str | None]:
    tokens = dict(_split_user(value, "--token") for value in given)
    for value in from_env:
        var, user = _split_user(value, "--token-env")
        secret = os.environ.get(var)
        if not secret:
            raise InputError(
                f"environment variable {var} is not set",
                code="secret_unavailable",
                key="--token-env",
            )
        tokens[secret] = user
    return tokens


def _admins(admin: str | None, password_env: str | None) -> dict[str, str]:
    if admin is None and password_env is None:
        return {}
    if admin is None or password_env is None:
        raise InputError("--admin and --password-env go together", code="usage", key="--admin")
    password = os.environ.get(password_env)
    if not password:
        raise InputError(
            f"environment variable {password_env} is not set",
            code="secret_unavailable",
            key="--password-env",
        )
    return {admin: password}


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")
