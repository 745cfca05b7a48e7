"""``baluarte collectors provision|remove``: a site collector's identity on the broker.

``provision`` says what it made on standard error and prints the collector's broker URL, with
its password (shown this once), alone on standard output, so its last line is the URL and a
script can take it: ``URL=$(baluarte collectors provision madrid --broker "$BROKER")``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from baluarte.cli.options import InventoryOpt
from baluarte.text import inert

__all__ = ["BROKER_CA_ENV", "BrokerCaOpt", "BrokerOpt", "register"]

NameArg = Annotated[
    str,
    typer.Argument(
        metavar="NAME",
        help="The collector's name, as in the inventory's 'collectors:' (e.g. madrid).",
        show_default=False,
    ),
]
BrokerOpt = Annotated[
    str | None,
    typer.Option(
        "--broker",
        help="The central broker URL with the central side's login, e.g. "
        "amqp://baluarte:PASSWORD@broker.example.net:5672/baluarte. Default: "
        "$BALUARTE_BROKER. Its vhost is where the collector is given permissions.",
        show_default=False,
    ),
]

BROKER_CA_ENV = "BALUARTE_BROKER_CA"
BrokerCaOpt = Annotated[
    str | None,
    typer.Option(
        "--broker-ca",
        envvar=BROKER_CA_ENV,
        metavar="FILE",
        help="For an amqps:// broker: the PEM file of the CA that signed the broker's "
        "certificate (host name checked too). Default: $BALUARTE_BROKER_CA, else the "
        "system's CAs.",
        show_default=False,
    ),
]

collectors_app = typer.Typer(
    help="Site collectors' identities on the broker (see docs/collectors.md).",
    no_args_is_help=True,
)


ReachedAtOpt = Annotated[
    str | None,
    typer.Option(
        "--reached-at",
        metavar="URL",
        help="Where the collectors reach the broker, when not at the --broker URL's host "
        "(a public name, the amqps port): amqps://HOST[:PORT], e.g. "
        "amqps://broker.example.net:5671. The URL printed takes its scheme, host and port; "
        "the vhost stays the --broker URL's.",
        show_default=False,
    ),
]


@collectors_app.command("provision")
def provision_command(
    name: NameArg,
    broker: BrokerOpt = None,
    broker_ca: BrokerCaOpt = None,
    reached_at: ReachedAtOpt = None,
) -> None:
    """Create the collector's RabbitMQ user (its own queue and the results exchange only);
    print its broker URL, with its password, once."""
    from baluarte.collectors.broker import (
        check_collector_name,
        parse_broker_url,
        parse_reached_at,
        provision_collector,
        routing_keys_for,
    )
    from baluarte.collectors.names import RESULTS_EXCHANGE, queue_name

    check_collector_name(name)
    url = parse_broker_url(broker, ca_file=broker_ca)
    place = parse_reached_at(reached_at) if reached_at is not None else None
    made = provision_collector(name, url, place)
    configure, write, read = made.permissions
    say = _stderr
    say(f"declared exchange {RESULTS_EXCHANGE} (durable, topic) on vhost {made.vhost}")
    say(f"created RabbitMQ user {made.user}")
    say(f"permissions on vhost {made.vhost}: configure {configure}  write {write}  read {read}")
    say(f"publishing to {RESULTS_EXCHANGE} only with routing keys {routing_keys_for(name)}")
    say(f"the collector consumes only queue {queue_name(name)} and publishes to {RESULTS_EXCHANGE}")
    if place is None:
        say("checked: the collector's URL logs in")
    else:
        say(
            f"checked: the collector's login works at {url.host}:{url.port}; its URL is at"
            f" {place.scheme}://{place.host}:{place.port} (--reached-at)"
        )
    say(
        "the collector's broker URL follows, with its password shown this once: keep it in the"
        " collector's secret file (to change it: remove, then provision again)"
    )
    typer.echo(made.url)


@collectors_app.command("remove")
def remove_command(name: NameArg, broker: BrokerOpt = None) -> None:
    """Delete the collector's RabbitMQ user (its open connections are closed)."""
    from baluarte.collectors.broker import check_collector_name, parse_broker_url, remove_collector
    from baluarte.collectors.names import broker_user

    check_collector_name(name)
    url = parse_broker_url(broker)
    user = broker_user(name)
    if remove_collector(name, url):
        typer.echo(f"removed RabbitMQ user {user}: collector {name} can no longer log in")
    else:
        typer.echo(f"collector {name} is not provisioned (no RabbitMQ user {user}): nothing to do")


@collectors_app.command("status")
def status_command(
    inventory: InventoryOpt = None,
    broker: BrokerOpt = None,
    broker_ca: BrokerCaOpt = None,
    silent_after: Annotated[
        float,
        typer.Option(
            "--silent-after",
            min=0.1,
            metavar="SECONDS",
            help="A collector whose last heartbeat is older than this is silent (it sends "
            "one every 30 s).",
        ),
    ] = 90.0,
) -> None:
    """Every collector of the inventory as the broker sees it: its last heartbeat, its
    queued tasks. Exit 0 when all are ok, 1 when any is silent, never seen or not
    provisioned."""
    from rich.console import Console

    from baluarte.cli.shapes import Column, print_table
    from baluarte.collectors.broker import parse_broker_url
    from baluarte.collectors.health import is_ok, read_status, state_of
    from baluarte.engine import default_inventory_paths
    from baluarte.exitcodes import ExitCode
    from baluarte.inventory import load_inventory

    url = parse_broker_url(broker, ca_file=broker_ca)
    declared = load_inventory(list(inventory or default_inventory_paths())).collectors
    found = read_status(url, [c.name for c in declared]) if declared else []
    now = datetime.now(UTC)
    columns = [
        Column("collector", key=True),
        Column("state", key=True),
        Column("last seen", narrowest=12),
        Column("version", key=True),
        Column("host", narrowest=12),
        Column("queued", key=True, justify="right"),
        Column("consumers", key=True, justify="right"),
        Column("description"),
    ]
    rows = [
        [
            status.name,
            state_of(status, now, after=silent_after),
            _seen(status.last_seen, now),
            status.version or "",
            status.hostname or "",
            _count(status.queued),
            _count(status.consumers),
            collector.description or "",
        ]
        for collector, status in zip(declared, found, strict=True)
    ]
    notes = [f"{s.name}: {s.problem}" for s in found if s.problem]
    if not declared:
        notes.append("no collectors declared in the inventory")
    print_table(
        Console(),
        columns,
        rows,
        title=f"Site collectors on {url.host}:{url.port}, vhost {url.vhost} (times in UTC)",
        notes=notes,
    )
    healthy = all(is_ok(s, now, after=silent_after) for s in found)
    raise typer.Exit(ExitCode.COMPLIANT if healthy else ExitCode.DRIFT)


def _seen(when: datetime | None, now: datetime) -> str:
    from baluarte.collectors.health import age_text

    if when is None:
        return ""
    return f"{age_text((now - when).total_seconds())} ago, {when:%Y-%m-%d %H:%M:%S}"


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def _stderr(line: str) -> None:
    # names and vhosts come from the command line: shown inert
    typer.echo(inert(line), err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(collectors_app, name="collectors")
