"""``baluarte demo``: check this machine and a lab FortiGate with the shipped baselines."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml
from rich.console import Console

from baluarte.cli.options import DbOpt
from baluarte.cli.render import print_summary
from baluarte.cli.report import ReportFormat, write_report
from baluarte.engine import CheckOptions, check, load_inputs

if TYPE_CHECKING:
    from baluarte.lab.fortigate import FortigateLab

__all__ = ["register"]

EXAMPLE_INVENTORY = Path("inventory/example.yaml")
TOKEN_VARIABLE = "BALUARTE_DEMO_FW_TOKEN"


def demo_inventory(folder: Path, unit: FortigateLab) -> Path:
    """The example inventory plus the lab FortiGate (its port and CA change from run to run)."""
    doc = yaml.safe_load(EXAMPLE_INVENTORY.read_text())
    client = next(c for c in doc["clients"] if c["name"] == "demo")
    client["sites"].append(
        {
            "name": "lab",
            "devices": [
                {
                    "name": "fw-oficina",
                    "platform": "fortigate",
                    "address": unit.host,
                    "port": unit.port,
                    "tags": ["firewall", "demo"],
                    "fortios": {
                        "token": f"env:{TOKEN_VARIABLE}",
                        "vdom": "root",
                        "ca_bundle": str(unit.ca_path.resolve()),
                    },
                }
            ],
        }
    )
    path = folder / "inventory.yaml"
    header = (
        f"# Written by `baluarte demo`: {EXAMPLE_INVENTORY} plus the lab FortiGate it started\n"
        "# (the 'typical small office' state of baluarte/lab/fortigate/states/).\n"
    )
    path.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def demo_command(
    out: Annotated[Path, typer.Option("-o", "--output", help="Folder for the reports.")] = Path(
        "baluarte-reports"
    ),
    db: DbOpt = None,
) -> None:
    """Check this machine (@local) and a lab FortiGate against the shipped baselines; report.

    The FortiGate is Baluarte's FortiOS emulator, started here on 127.0.0.1 with the "typical
    small office" state: a firewall with the weaknesses usually found at a new client.
    """
    from baluarte.lab.fortigate import FortigateLab
    from baluarte.lab.fortigate.shipped import shipped_state
    from baluarte.transports.ssh import prestart

    prestart()
    lab = out / "lab"
    lab.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(15)  # a fresh lab token each run, handed over in the environment
    os.environ[TOKEN_VARIABLE] = token
    with FortigateLab(
        shipped_state("small-office"), tokens={token: "baluarte-ro"}, cert_dir=lab / "fortigate"
    ) as unit:
        console = Console()
        console.print(f"Lab FortiGate (FortiOS emulator): [bold]{unit.url}[/]")
        inputs = load_inputs(
            [demo_inventory(lab, unit)],
            Path("policies"),
            Path("policies/waivers.yaml") if Path("policies/waivers.yaml").exists() else None,
        )
        from baluarte.store import Store  # lazily: SQLAlchemy is slow to import

        store = Store.open(db)
        try:
            options = CheckOptions(client="demo", scope={"client": "demo"}, artifacts=lab)
            run = check(inputs, store, options)
        finally:
            store.close()
    print_summary(console, run)
    html = out / f"run-{run.info.id}.html"
    js = out / f"run-{run.info.id}.json"
    write_report(run, ReportFormat.HTML, html)
    write_report(run, ReportFormat.JSON, js)
    console.print(f"HTML report: [bold]{html.resolve()}[/]")
    console.print(f"JSON report: [bold]{js.resolve()}[/]")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
