"""``baluarte collector``: run a site collector (a Celery worker on its own queue).

The broker URL carries the collector's password: give it in the secrets file as
``BALUARTE_BROKER=amqps://…`` (or in the environment), not with ``--broker`` on a command line
every user of the machine can read.
"""

from __future__ import annotations

import logging
import os
import stat
import warnings
from pathlib import Path
from typing import Annotated

import typer

from baluarte.cli.collectors import BrokerCaOpt
from baluarte.cli.options import ArtifactsOpt, ParallelOpt
from baluarte.errors import InputError

__all__ = ["load_secrets_file", "register"]

SecretsOpt = Annotated[
    Path | None,
    typer.Option(
        "--secrets",
        help="A file of NAME=VALUE lines (mode 0600) the devices' env: references and"
        " BALUARTE_BROKER are read from, like systemd's EnvironmentFile.",
        show_default=False,
    ),
]


def collector_command(
    name: Annotated[
        str,
        typer.Option(
            "--name",
            help="This collector's name, as provisioned (e.g. madrid).",
            show_default=False,
        ),
    ],
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            help="The broker URL 'collectors provision' printed. Default: $BALUARTE_BROKER, which"
            " --secrets may set (better: a command line is readable by every user).",
            show_default=False,
        ),
    ] = None,
    broker_ca: BrokerCaOpt = None,
    secrets_file: SecretsOpt = None,
    concurrency: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="Tasks (a run's devices, up to 500 each) worked on at once."
        ),
    ] = 2,
    parallel: ParallelOpt = 20,
    artifacts: ArtifactsOpt = Path("baluarte-artifacts"),
) -> None:
    """Run a site collector: take the collection tasks of this collector's queue, collect the
    devices inside the site, and send what they answered to the central side.

    It stops on Ctrl-C or SIGTERM (a task being collected then is left for the next start).
    Exit 2: bad input, wrong credentials, or a broker that cannot be reached at start.
    """
    from baluarte.collectors.broker import check_collector_name, parse_broker_url
    from baluarte.collectors.health import HeartbeatSender
    from baluarte.collectors.worker import Collector, check_login
    from baluarte.transports.ssh import prestart

    check_collector_name(name)
    if secrets_file is not None:
        load_secrets_file(secrets_file)
    url = parse_broker_url(broker, ca_file=broker_ca)
    check_login(url, name)
    _log_to_stderr()
    prestart()
    typer.echo(f"collector {name}: consuming baluarte.collector.{name} on {url.masked}", err=True)
    if os.geteuid() == 0:
        # Celery's own warning names an option this command does not have
        warnings.filterwarnings("ignore", message="You're running the worker with superuser")
        typer.echo(
            "warning: running as root; a collector needs no privileges: run it as a user of"
            " its own (the systemd unit in docs/collectors.md does)",
            err=True,
        )
    heartbeats = HeartbeatSender(url, name, concurrency=concurrency)
    heartbeats.start()
    try:
        Collector(name, url, concurrency=concurrency, parallel=parallel, artifacts=artifacts).run()
    finally:
        heartbeats.stop()


def _log_to_stderr() -> None:
    """What the collector does, one line each on stderr (journald keeps it under systemd).
    Its own logger: Celery's worker set-up resets the root logger's level."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("baluarte")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def load_secrets_file(path: Path) -> None:
    """NAME=VALUE lines into this process's environment (where ``env:`` references look).
    The file must be a regular file others cannot read; its values are never shown."""
    from baluarte.masking import register_secret

    where = str(path)
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read the secrets file: {type(exc).__name__}",
            code="unreadable_file",
            file=where,
        ) from None
    if not stat.S_ISREG(info.st_mode) or info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(
            "the secrets file must be a regular file only its owner can read (chmod 600)",
            code="secret_not_plain",
            file=where,
        )
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        key = key.strip().removeprefix("export ").strip()
        if not sep or not key.replace("_", "a").isalnum() or key[0].isdigit():
            raise InputError(
                "expected NAME=VALUE (the value is not shown)",
                code="wrong_value",
                file=where,
                line=number,
                column=1,
                allowed="NAME=VALUE lines, # comments",
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        register_secret(value)
        os.environ[key] = value


def register(app: typer.Typer) -> None:
    app.command("collector")(collector_command)
