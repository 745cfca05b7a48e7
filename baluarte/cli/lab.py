"""``baluarte lab``: emulated devices to try Baluarte (and other tools) against.

    baluarte lab serve fortigate --state fw.json --token "$TOKEN:baluarte-ro"
    # stdout, once ready:  https://127.0.0.1:PORT   then the CA certificate's path

Each subcommand group is its own Typer app joined to ``lab_app``, so ``lab capture fortigate``
(baluarte/lab/fortigate/capture.py) plugs in beside ``serve`` — see ``register``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from baluarte.cli.options import InventoryOpt
from baluarte.cli.render import escape
from baluarte.engine import default_inventory_paths
from baluarte.errors import InputError

if TYPE_CHECKING:
    from baluarte.inventory import Device, DeviceRef

__all__ = [
    "DEFAULT_LAB_DIR",
    "capture_app",
    "command",
    "dir_args",
    "lab_app",
    "register",
    "serve_app",
    "shown_path",
]

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


T = TypeVar("T")

# options the serve (and the capture) commands share
_HostOpt = Annotated[str, typer.Option("--host", help="Address to listen on.")]
_PortOpt = Annotated[int, typer.Option("--port", help="Port (0: any free port).")]
_CertDirOpt = Annotated[
    Path | None,
    typer.Option("--cert-dir", help="Folder for the lab CA (ca.pem), reused when present."),
]
_OutputOpt = Annotated[Path, typer.Option("-o", "--output", help="State file to write (JSON).")]
_ClientOpt = Annotated[
    str | None, typer.Option("--client", help="The device's client, if names repeat.")
]
_TimeoutOpt = Annotated[float, typer.Option(min=1, help="Seconds the capture may take.")]


class FortiosProfile(StrEnum):
    V74 = "7.4"
    V76 = "7.6"
    V64 = "6.4"


@serve_app.command("fortigate")
def serve_fortigate(
    state: Annotated[
        Path, typer.Option("--state", help="State file (JSON) of the unit to emulate.")
    ],
    host: _HostOpt = "127.0.0.1",
    port: _PortOpt = 0,
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
    cert_dir: _CertDirOpt = None,
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
    banner = (
        f"FortiGate lab {lab.state.serial} (FortiOS {profile.value} profile, "
        f"{len(tokens)} token(s))"
    )
    _serve_until_stopped(lab, banner, show_ca=True)


class WindowsAuth(StrEnum):
    NEGOTIATE = "negotiate"
    NTLM = "ntlm"
    BASIC = "basic"


@serve_app.command("windows")
def serve_windows(
    state: Annotated[
        Path, typer.Option("--state", help="State file (JSON) of the host to emulate.")
    ],
    host: _HostOpt = "127.0.0.1",
    port: _PortOpt = 0,
    user: Annotated[str, typer.Option("--user", help="User allowed to log on.")] = "baluarte",
    password_env: Annotated[
        str, typer.Option("--password-env", help="Environment variable holding --user's password.")
    ] = "BALUARTE_LAB_PASSWORD",
    https: Annotated[
        bool, typer.Option("--https", help="Serve HTTPS (lab CA) instead of HTTP.")
    ] = False,
    cert_dir: _CertDirOpt = None,
    auth: Annotated[
        WindowsAuth, typer.Option("--auth", help="Authentication to accept (no Kerberos).")
    ] = WindowsAuth.NEGOTIATE,
) -> None:
    """Serve an emulated Windows host (WinRM: WS-Management, PowerShell) until Ctrl-C/SIGTERM."""
    from baluarte.lab.windows import WindowsLab, load_state

    password = _env_secret(password_env, "--password-env")
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
    """Start ``lab``, print its URL (and CA path) on stdout, serve until SIGINT or SIGTERM."""
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
    output: _OutputOpt,
    client: _ClientOpt = None,
    inventory: InventoryOpt = None,
    timeout: _TimeoutOpt = 120.0,
) -> None:
    """Read a FortiGate (GETs only) and write what it answered as a state file the lab serves.

    Secrets come back from FortiOS encrypted; they are replaced by a placeholder, so the file
    can be shared. Exit codes: 0 written, 2 bad input, 3 the unit could not be read.
    """
    from baluarte.lab.fortigate.capture import capture

    ref = _one_device(device, client, inventory, "fortigate", "a fortigate")
    state, skipped = _read_device(ref, lambda found: capture(found, timeout=timeout))
    _write_state(output, state)
    err = Console(stderr=True)
    read = len(state.get("global", {})) + sum(len(v) for v in state.get("vdoms", {}).values())
    read += len(state.get("monitor", {}))
    err.print(f"{ref.key}: {read} endpoints written to {escape(output)}", highlight=False)
    for key, why in sorted(skipped.items()):
        err.print(f"  skipped {escape(key)}: {escape(why)}", highlight=False)


@capture_app.command("windows")
def capture_windows(
    device: Annotated[str, typer.Argument(help="Inventory name of the Windows host.")],
    output: _OutputOpt,
    client: _ClientOpt = None,
    inventory: InventoryOpt = None,
    timeout: _TimeoutOpt = 120.0,
) -> None:
    """Run the (read-only) check script on a Windows host and write its answer as a lab state.

    Exit codes: 0 written, 2 bad input, 3 the host could not be read.
    """
    from baluarte.lab.windows.capture import capture

    ref = _one_device(device, client, inventory, "windows", "a windows host")
    state = _read_device(ref, lambda found: capture(found, timeout=timeout))
    _write_state(output, state)
    err = Console(stderr=True)
    checks = state["output"].get("checks", {})
    failed = sorted(k for k, v in checks.items() if not (isinstance(v, dict) and v.get("ok")))
    err.print(
        f"{ref.key}: {escape(state['hostname'] or '?')} ({escape(state['os'] or 'OS unknown')}),"
        f" {len(checks)} checks written to {escape(output)}",
        highlight=False,
    )
    for key in failed:
        why = checks[key].get("error", "") if isinstance(checks[key], dict) else ""
        err.print(f"  check {escape(key)} failed on the host: {escape(why)}", highlight=False)


def _one_device(
    device: str, client: str | None, inventory: list[Path] | None, platform: str, what: str
) -> DeviceRef:
    """The one inventory device named ``device``, of ``platform``. Raises InputError."""
    from baluarte.inventory import load_inventory

    refs = load_inventory(list(inventory or default_inventory_paths())).select(
        client=client, device=device
    )
    if len(refs) != 1:
        clients = ", ".join(sorted(r.client_name for r in refs))
        raise InputError(
            f"device '{device}' is in several clients ({clients}): add --client", code="usage"
        )
    ref = refs[0]
    if ref.platform != platform:
        raise InputError(
            f"device '{ref.key}' is a {ref.platform} device, not {what}",
            code="platform_mismatch",
        )
    return ref


def _read_device(ref: DeviceRef, read: Callable[[Device], T]) -> T:
    """``read(ref.device)``; a DeviceError is printed and exits with the device-error code."""
    from baluarte.errors import DeviceError
    from baluarte.evaluate import describe_device_error
    from baluarte.exitcodes import ExitCode

    try:
        return read(ref.device)
    except DeviceError as exc:
        Console(stderr=True).print(
            f"[bold red]error:[/] {ref.key}: {escape(describe_device_error(exc))}", highlight=False
        )
        raise typer.Exit(ExitCode.DEVICE_ERROR) from None


def _write_state(output: Path, state: Mapping[str, Any]) -> None:
    output.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n")


def _env_secret(var: str, option: str) -> str:
    """The secret in environment variable ``var`` (named by ``option``). Raises InputError."""
    secret = os.environ.get(var)
    if not secret:
        raise InputError(
            f"environment variable {var} is not set", code="secret_unavailable", key=option
        )
    return secret


def _split_user(value: str, option: str) -> tuple[str, str | None]:
    secret, _, user = value.partition(":")
    if not secret:
        raise InputError(f"{option} needs a value like NAME[:API_USER]", code="usage", key=option)
    return secret, user or None


def _tokens(given: list[str], from_env: list[str]) -> dict[str, str | None]:
    tokens = dict(_split_user(value, "--token") for value in given)
    for value in from_env:
        var, user = _split_user(value, "--token-env")
        tokens[_env_secret(var, "--token-env")] = user
    return tokens


def _admins(admin: str | None, password_env: str | None) -> dict[str, str]:
    if admin is None and password_env is None:
        return {}
    if admin is None or password_env is None:
        raise InputError("--admin and --password-env go together", code="usage", key="--admin")
    return {admin: _env_secret(password_env, "--password-env")}


# -- the demo lab in the background: up, down, status --------------------------------------

DEFAULT_LAB_DIR = Path("baluarte-reports/lab")  # the demo's lab folder (baluarte demo -o …/lab)
_DirOpt = Annotated[
    Path,
    typer.Option("--dir", help="The lab's folder: inventory, secrets, CA, log, pid file, backups."),
]


@lab_app.command("up")
def up_command(
    folder: _DirOpt = DEFAULT_LAB_DIR,
    timeout: Annotated[
        float, typer.Option(min=1, help="Seconds to wait for the devices to answer.")
    ] = 20.0,
) -> None:
    """Start the demo's lab FortiGate and Windows PC in the background, and write an inventory.

    The two devices of `baluarte demo` (client demo, site lab: fw-oficina, pc-recepcion) keep
    running in one background process after this command returns, with credentials that may
    change them, so `check` and `apply` can be tried on them. DIR/inventory.yaml reaches them
    with no environment variable (secrets are 0600 files in DIR). Already up: says so.
    Exit codes: 0 up, 3 the lab did not start (see DIR/lab.log).
    """
    from baluarte.errors import LabError
    from baluarte.exitcodes import ExitCode
    from baluarte.lab.background import LOG_FILE, up

    try:
        started = up(folder, timeout=timeout)
    except LabError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(exc)}", highlight=False)
        raise typer.Exit(ExitCode.DEVICE_ERROR) from None
    at, out = started.endpoints, Console(highlight=False, soft_wrap=True)
    if started.stale is not None:
        out.print(f"(removed a stale pid file: pid {started.stale} is not a running lab)")
    where = escape(shown_path(started.inventory.parent))
    if started.already:
        out.print(f"The lab is already running in {where} (pid {at.pid}); left as it is.")
    else:
        out.print(f"Lab up in {where} (pid {at.pid}), running in the background:")
    out.print(f"  fw-oficina    FortiGate (FortiOS emulator)   {escape(at.fortigate_url)}")
    out.print(f"  pc-recepcion  Windows PC (WinRM lab server)  {escape(at.windows_url)}")
    out.print(f"  inventory     {escape(shown_path(started.inventory))}")
    out.print(f"  lab CA        {escape(shown_path(at.ca_path))}")
    out.print(f"  log           {escape(shown_path(started.inventory.parent / LOG_FILE))}")
    inventory = shown_path(started.inventory)
    out.print("Try what apply would change on the firewall (nothing changes):")
    out.print(f"  {escape(command('apply', '--inventory', inventory, '--device', 'fw-oficina'))}")
    out.print(f"Stop the lab with: {escape(command('lab', 'down', *dir_args(folder)))}")


@lab_app.command("down")
def down_command(folder: _DirOpt = DEFAULT_LAB_DIR) -> None:
    """Stop the lab `baluarte lab up` started (SIGTERM; SIGKILL if it has not stopped in 10 s).

    Its inventory, CA, secrets, log and backups stay in DIR. Nothing running is not an error.
    """
    from baluarte.lab.background import Stopped, down

    stopped = down(folder)
    where = escape(shown_path(folder))
    out = Console(highlight=False, soft_wrap=True)
    if isinstance(stopped, Stopped):
        how = " (killed: it did not stop on SIGTERM)" if stopped.killed else ""
        out.print(f"Lab in {where} stopped (pid {stopped.pid}){how}.")
        return
    if stopped.stale is not None:
        out.print(f"No lab is running in {where} (removed a stale pid file: pid {stopped.stale}).")
    else:
        out.print(f"No lab is running in {where}.")


@lab_app.command("status")
def status_command(folder: _DirOpt = DEFAULT_LAB_DIR) -> None:
    """Say whether the lab runs, and where its devices answer. Exit codes: 0 up, 1 not running."""
    from baluarte.exitcodes import ExitCode
    from baluarte.lab.background import status

    now = status(folder)
    where = escape(shown_path(folder))
    out = Console(highlight=False, soft_wrap=True)
    if now.pid is None:
        out.print(f"No lab is running in {where}.")
        raise typer.Exit(ExitCode.DRIFT)
    out.print(f"The lab is running in {where} (pid {now.pid}).")
    if now.endpoints is not None:
        out.print(f"  fw-oficina    {escape(now.endpoints.fortigate_url)}")
        out.print(f"  pc-recepcion  {escape(now.endpoints.windows_url)}")
    out.print(f"  inventory     {escape(shown_path(now.inventory))}")


def dir_args(folder: Path) -> tuple[str, ...]:
    """``--dir FOLDER`` for a command to copy, unless FOLDER is the default."""
    same = folder.resolve() == DEFAULT_LAB_DIR.resolve()
    return () if same else ("--dir", shown_path(folder))


def shown_path(path: Path) -> str:
    """``path`` as the user would type it here: relative to the working folder when inside."""
    full = path.resolve()
    try:
        return str(full.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(full)


def command(*args: str) -> str:
    """A ``baluarte`` command line to copy, its arguments quoted for the shell."""
    import shlex

    return shlex.join(["baluarte", *args])


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")
