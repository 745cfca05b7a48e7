"""``baluarte demo``: check this machine, a lab FortiGate and a lab Windows PC; write reports."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from baluarte.cli.lab import DEFAULT_LAB_DIR, command, dir_args, shown_path
from baluarte.cli.options import DbOpt
from baluarte.cli.render import check_progress, escape, print_summary
from baluarte.cli.report import ReportFormat, write_report
from baluarte.engine import CheckOptions, check, load_inputs
from baluarte.errors import InputError

if TYPE_CHECKING:
    from baluarte.lab.demo_lab import LabEndpoints
    from baluarte.lab.fortigate import FortigateLab
    from baluarte.lab.windows import WindowsLab
    from baluarte.run import RunRecord

__all__ = ["PASSWORD_VARIABLE", "TOKEN_VARIABLE", "WINDOWS_USER", "lab_devices", "register"]

# Environment variables of ``lab_devices``' secret references: for tests and scripts that start
# their own lab devices. The demo itself uses ``baluarte.lab.demo_lab`` (file: secrets).
TOKEN_VARIABLE = "BALUARTE_DEMO_FW_TOKEN"
PASSWORD_VARIABLE = "BALUARTE_DEMO_WIN_PASSWORD"
WINDOWS_USER = "baluarte"  # the lab PC's user, as in baluarte.lab.demo_lab
DEFAULT_OUTPUT = DEFAULT_LAB_DIR.parent  # the reports; the lab's folder is its "lab" subfolder
POLICIES = Path("policies")
WAIVERS = Path("policies/waivers.yaml")


def lab_devices(firewall: FortigateLab, pc: WindowsLab) -> list[dict[str, Any]]:
    """Lab devices as the demo's inventory entries, their secrets as ``env:`` references to
    TOKEN_VARIABLE and PASSWORD_VARIABLE (their ports and CA change from run to run)."""
    return [
        {
            "name": "fw-oficina",
            "platform": "fortigate",
            "address": firewall.host,
            "port": firewall.port,
            "tags": ["firewall", "demo"],
            "fortios": {
                "token": f"env:{TOKEN_VARIABLE}",
                "vdom": "root",
                "ca_bundle": str(firewall.ca_path.resolve()),
            },
        },
        {
            "name": "pc-recepcion",
            "platform": "windows",
            "address": pc.host,
            "port": pc.port,
            "tags": ["workstation", "demo"],
            # NTLM over HTTP: WinRM's default on a workgroup PC, messages encrypted by NTLM
            "winrm": {
                "user": WINDOWS_USER,
                "password": f"env:{PASSWORD_VARIABLE}",
                "auth": "ntlm",
                "https": False,
            },
        },
    ]


def demo_command(
    out: Annotated[
        Path, typer.Option("-o", "--output", help="Folder for the reports.")
    ] = DEFAULT_OUTPUT,
    db: DbOpt = None,
) -> None:
    """Check this machine (@local), a lab FortiGate and a lab Windows PC; write reports.

    The FortiGate and the PC are Baluarte's lab emulators with the weaknesses usually found at a
    new client ("typical small office", "typical office PC"): those `baluarte lab up` keeps
    running in OUTPUT/lab when it is up, else started here on 127.0.0.1 for the demo only.
    The inventory, the lab CA and the firewall's configuration backup are left in OUTPUT/lab.
    """
    from baluarte.lab.demo_lab import EXAMPLE_INVENTORY
    from baluarte.operator import current_operator
    from baluarte.transports.ssh import prestart

    if not EXAMPLE_INVENTORY.is_file() or not POLICIES.is_dir():
        # the demo reads the project's example inventory and shipped policies, by relative path
        raise InputError(
            f"the demo runs from Baluarte's project folder: {EXAMPLE_INVENTORY} and policies/ "
            f"are not in {Path.cwd()} (cd to the folder holding them, then run it again)",
            code="missing_file",
            file=EXAMPLE_INVENTORY,
        )
    prestart()
    console, err = Console(), Console(stderr=True)
    lab_dir = out / "lab"
    with ExitStack() as stack:
        inventory, at, kept = _lab(lab_dir, stack)
        if kept:
            console.print(
                f"Using the lab running in [bold]{escape(shown_path(lab_dir))}[/] "
                f"(pid {at.pid}, started by `baluarte lab up`)",
                highlight=False,
                soft_wrap=True,
            )
        console.print(f"Lab FortiGate (FortiOS emulator): [bold]{escape(at.fortigate_url)}[/]")
        console.print(f"Lab Windows PC (WinRM/PSRP lab server): [bold]{escape(at.windows_url)}[/]")
        inputs = load_inputs([inventory], POLICIES, WAIVERS if WAIVERS.exists() else None)
        from baluarte.history import earlier_runs
        from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

        store = Store.open(db)
        try:
            options = CheckOptions(
                client="demo",
                scope={"client": "demo"},
                artifacts=inventory.parent,  # the firewall's backup, beside the inventory
                operator_identity=current_operator(),  # the person responsible, when named
            )
            with check_progress(err) as (on_start, on_device):
                run = check(inputs, store, options, on_start=on_start, on_device=on_device)
            history = earlier_runs(store, run)
        finally:
            store.close()
    html = out / f"run-{run.info.id}.html"
    js = out / f"run-{run.info.id}.json"
    write_report(run, ReportFormat.HTML, html, history)
    write_report(run, ReportFormat.JSON, js, history)
    print_summary(console, run)
    console.print(f"HTML report: [bold]{escape(html.resolve())}[/]", soft_wrap=True)
    console.print(f"JSON report: [bold]{escape(js.resolve())}[/]", soft_wrap=True)
    _next_steps(console, run, inventory, lab_dir, lab_running=kept, db=db)


def _lab(lab_dir: Path, stack: ExitStack) -> tuple[Path, LabEndpoints, bool]:
    """The lab's inventory and devices: the running lab's (True), else ones started here."""
    from baluarte.lab.background import status, up
    from baluarte.lab.demo_lab import (
        DemoLab,
        LabSecrets,
        prepare_folder,
        write_inventory,
        write_secrets,
    )

    if status(lab_dir).running:
        started = up(lab_dir)  # already up: waits until it answers, refreshes its inventory
        return started.inventory, started.endpoints, True
    folder = prepare_folder(lab_dir)
    lab_secrets = LabSecrets.new()  # fresh lab credentials each run, in 0600 files
    write_secrets(folder, lab_secrets)
    lab = stack.enter_context(DemoLab(folder, lab_secrets))
    at = lab.endpoints()
    return write_inventory(folder, at, "baluarte demo"), at, False


def _next_steps(
    console: Console,
    run: RunRecord,
    inventory: Path,
    lab_dir: Path,
    *,
    lab_running: bool,
    db: str | None,
) -> None:
    """The three commands to try next, ready to copy (``--db`` kept when it was given)."""
    from baluarte.evidence.keys import default_key_path

    store = ("--db", db) if db else ()
    artifacts = ("--artifacts", shown_path(inventory.parent))
    apply_plan = command(
        "apply", "--inventory", shown_path(inventory), "--device", "fw-oficina", *store
    )
    lines = [
        "",
        "[bold]Try next:[/]",
        "1. This run again, from the store (add --all for the passing controls):",
        f"     {escape(command('show', str(run.info.id), *store))}",
    ]
    if lab_running:
        lines.append("2. What apply would change on the lab firewall (nothing changes yet):")
    else:
        lines += [
            "2. What apply would change on the lab firewall (nothing changes yet). The lab "
            "stopped with the demo: start it in the background first.",
            f"     {escape(command('lab', 'up', *dir_args(lab_dir)))}",
        ]
    lines.append(f"     {escape(apply_plan)}")
    pack = shown_path(inventory.parent.parent / "evidence-demo.zip")
    export = command("evidence", "export", "--client", "demo", *artifacts, *store, "-o", pack)
    if default_key_path().exists():
        lines.append("3. A signed evidence pack of client demo, for an auditor:")
    else:
        lines += [
            "3. A signed evidence pack of client demo, for an auditor (create your signing key"
            " first, once):",
            f"     {escape(command('keys', 'init'))}",
        ]
    lines += [
        f"     {escape(export)}",
        'README.md, "Walk-through: your first hour", goes on from here.',
    ]
    for line in lines:
        # prose wraps to the window; a command stays one line, to copy whole
        # on a terminal prose wraps to the window; a command stays one line, to copy whole; in a
        # pipe nothing is wrapped (Rich would at 80 columns)
        console.print(
            line, highlight=False, soft_wrap=line.startswith("     ") or not console.is_terminal
        )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
