"""One example per command, shown at the foot of its ``--help`` (Typer's epilog).

Kept in one table so the examples read as a set and a test can hold every command to having
one: a command added without an example fails ``tests/integration/test_cli_version.py``.
"""

from __future__ import annotations

from typer import Typer

__all__ = ["EXAMPLES", "add_examples"]

EXAMPLES: dict[str, str] = {
    "check": "baluarte check --client acme --site madrid-hq --format json > run.json",
    "apply": "baluarte apply --device srv-files --out plan.json   then   "
    "baluarte apply --plan plan.json --yes",
    "validate": "baluarte validate --inventory inventory/ --policies policies/",
    "controls": "baluarte controls --platform windows --format json",
    "runs": "baluarte runs --client acme   |   baluarte runs --verify --require-signed",
    "show": "baluarte show 42 --all",
    "report": "baluarte report --client acme --from 2026-10-01 --to 2026-12-31 --lang es "
    "--format html -o acme-q4.html   |   baluarte report executive --client acme "
    "--month 2026-11 --out acme-2026-11.pdf",
    "diff": "baluarte diff 41 42",
    "history": "baluarte history --client acme --posture --from 2026-11-01",
    "evidence export": "baluarte evidence export --client acme --from 2026-10-01 "
    "--to 2026-12-31 -o acme-q4.zip",
    "evidence verify": "baluarte evidence verify acme-q4.zip --key provider-signing.pub.pem",
    "keys init": "baluarte keys init --passphrase env:BALUARTE_KEY_PASSPHRASE",
    "demo": "baluarte demo",
    "lab serve fortigate": "baluarte lab serve fortigate --state fw.json --token "
    '"$TOKEN:baluarte-ro" --port 8443',
    "lab serve windows": "baluarte lab serve windows --state pc.json --user lab "
    "--password-env LAB_PASSWORD --auth ntlm",
    "lab capture fortigate": "baluarte lab capture fortigate fw-hq -o fw-hq.json --client acme",
    "lab capture windows": "baluarte lab capture windows pc-recepcion -o pc.json --client acme",
    "lab up": "baluarte lab up   then   baluarte apply --inventory "
    "baluarte-reports/lab/inventory.yaml --device fw-oficina",
    "lab down": "baluarte lab down --dir baluarte-reports/lab",
    "lab status": "baluarte lab status",
    "serve": "baluarte serve --config /etc/baluarte/serve.yaml --host 127.0.0.1 --port 8080",
    "users add": "baluarte users add inspector --role auditor --clients acme "
    "--config /etc/baluarte/serve.yaml",
    "users list": "baluarte users list --config /etc/baluarte/serve.yaml",
    "users remove": "baluarte users remove inspector --config /etc/baluarte/serve.yaml",
    "tokens create": "baluarte tokens create --user ana --config /etc/baluarte/serve.yaml",
    "tokens list": "baluarte tokens list --config /etc/baluarte/serve.yaml",
    "tokens revoke": "baluarte tokens revoke blt_AbC123 --config /etc/baluarte/serve.yaml",
    "collectors provision": "baluarte collectors provision madrid --reached-at "
    "amqps://broker.example.net:5671 > madrid-broker-url   (the URL holds its password: keep "
    "it secret)",
    "collectors remove": 'baluarte collectors remove madrid --broker "$BALUARTE_BROKER"',
    "collectors status": 'baluarte collectors status --broker "$BALUARTE_BROKER"',
    "collector": "baluarte collector --name madrid --secrets /etc/baluarte/collector.env",
}


def add_examples(app: Typer, prefix: str = "") -> None:
    """Give every command of ``app`` (and of its groups) its example, unless it has an
    epilog of its own."""
    for command in app.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        path = f"{prefix}{name}"
        if command.epilog is None and path in EXAMPLES:
            command.epilog = f"Example: {EXAMPLES[path]}"
    for group in app.registered_groups:
        instance = group.typer_instance
        if instance is None:
            continue
        add_examples(instance, f"{prefix}{group.name or instance.info.name} ")
