"""``baluarte demo``: check this machine, a lab FortiGate and a lab Windows PC; write reports."""

from __future__ import annotations

import os
import secrets
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from rich.console import Console

from baluarte.cli.options import DbOpt
from baluarte.cli.render import escape, print_summary
from baluarte.cli.report import ReportFormat, write_report
from baluarte.engine import CheckOptions, check, load_inputs
from baluarte.errors import InputError

if TYPE_CHECKING:
    from baluarte.lab.fortigate import FortigateLab
    from baluarte.lab.windows import WindowsLab

__all__ = ["register"]

EXAMPLE_INVENTORY = Path("inventory/example.yaml")
TOKEN_VARIABLE = "BALUARTE_DEMO_FW_TOKEN"
PASSWORD_VARIABLE = "BALUARTE_DEMO_WIN_PASSWORD"
WINDOWS_USER = "baluarte"


def lab_devices(firewall: FortigateLab, pc: WindowsLab) -> list[dict[str, Any]]:
    """The lab devices as inventory entries (their ports and CA change from run to run)."""
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


def demo_inventory(folder: Path, devices: list[dict[str, Any]]) -> Path:
    """The example inventory plus the lab devices, in site "lab" of client "demo"."""
    doc = yaml.safe_load(EXAMPLE_INVENTORY.read_text())
    client = next(c for c in doc["clients"] if c["name"] == "demo")
    client["sites"].append({"name": "lab", "devices": devices})
    path = folder / "inventory.yaml"
    header = (
        f"# Written by `baluarte demo`: {EXAMPLE_INVENTORY} plus the lab devices it started\n"
        "# (the 'typical small office' FortiGate and the 'typical office PC' Windows states).\n"
    )
    path.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def demo_command(
    out: Annotated[Path, typer.Option("-o", "--output", help="Folder for the reports.")] = Path(
        "baluarte-reports"
    ),
    db: DbOpt = None,
) -> None:
    """Check this machine (@local), a lab FortiGate and a lab Windows PC; write reports.

    The FortiGate and the PC are Baluarte's lab emulators, started here on 127.0.0.1 with the
    weaknesses usually found at a new client ("typical small office", "typical office PC").
    """
    from baluarte.lab.fortigate import FortigateLab
    from baluarte.lab.fortigate.shipped import shipped_state as fortigate_state
    from baluarte.lab.windows import WindowsLab
    from baluarte.lab.windows.shipped import shipped_state as windows_state
    from baluarte.operator import current_operator
    from baluarte.transports.ssh import prestart

    if not EXAMPLE_INVENTORY.is_file() or not Path("policies").is_dir():
        # the demo reads the project's example inventory and shipped policies, by relative path
        raise InputError(
            f"the demo runs from Baluarte's project folder: {EXAMPLE_INVENTORY} and policies/ "
            f"are not in {Path.cwd()} (cd to the folder holding them, then run it again)",
            code="missing_file",
            file=EXAMPLE_INVENTORY,
        )
    prestart()
    lab = out / "lab"
    lab.mkdir(parents=True, exist_ok=True)
    # Fresh lab credentials each run, handed to the check through the environment.
    token, password = secrets.token_hex(15), secrets.token_urlsafe(18)
    os.environ[TOKEN_VARIABLE] = token
    os.environ[PASSWORD_VARIABLE] = password
    console = Console()
    with ExitStack() as stack:
        firewall = stack.enter_context(
            FortigateLab(
                fortigate_state("small-office"),
                tokens={token: "baluarte-ro"},
                cert_dir=lab / "fortigate",
            )
        )
        pc = stack.enter_context(
            WindowsLab(windows_state("office-pc"), users={WINDOWS_USER: password}, auth="ntlm")
        )
        console.print(f"Lab FortiGate (FortiOS emulator): [bold]{firewall.url}[/]")
        console.print(f"Lab Windows PC (WinRM/PSRP lab server): [bold]{pc.url}[/]")
        inputs = load_inputs(
            [demo_inventory(lab, lab_devices(firewall, pc))],
            Path("policies"),
            Path("policies/waivers.yaml") if Path("policies/waivers.yaml").exists() else None,
        )
        from baluarte.history import earlier_runs
        from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

        store = Store.open(db)
        try:
            options = CheckOptions(
                client="demo",
                scope={"client": "demo"},
                artifacts=lab,
                operator_identity=current_operator(),  # the person responsible, when named
            )
            run = check(inputs, store, options)
            history = earlier_runs(store, run)
        finally:
            store.close()
    print_summary(console, run)
    html = out / f"run-{run.info.id}.html"
    js = out / f"run-{run.info.id}.json"
    write_report(run, ReportFormat.HTML, html, history)
    write_report(run, ReportFormat.JSON, js, history)
    console.print(f"HTML report: [bold]{escape(html.resolve())}[/]")
    console.print(f"JSON report: [bold]{escape(js.resolve())}[/]")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
