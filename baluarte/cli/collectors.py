"""``baluarte collectors provision|remove``: a site collector's identity on the broker.

``provision`` says what it made on standard error and prints the collector's broker URL, with
its password (shown this once), alone on standard output, so its last line is the URL and a
script can take it: ``URL=$(baluarte collectors provision madrid --broker "$BROKER")``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from baluarte.text import inert

__all__ = ["register"]

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

collectors_app = typer.Typer(
    help="Site collectors' identities on the broker (see docs/collectors.md).",
    no_args_is_help=True,
)


@collectors_app.command("provision")
def provision_command(name: NameArg, broker: BrokerOpt = None) -> None:
    """Create the collector's RabbitMQ user (its own queue and the results exchange only);
    print its broker URL, with its password, once."""
    from baluarte.collectors.broker import (
        check_collector_name,
        parse_broker_url,
        provision_collector,
    )
    from baluarte.collectors.names import RESULTS_EXCHANGE, queue_name

    check_collector_name(name)
    url = parse_broker_url(broker)
    made = provision_collector(name, url)
    configure, write, read = made.permissions
    say = _stderr
    say(f"declared exchange {RESULTS_EXCHANGE} (durable, topic) on vhost {made.vhost}")
    say(f"created RabbitMQ user {made.user}")
    say(f"permissions on vhost {made.vhost}: configure {configure}  write {write}  read {read}")
    say(f"the collector consumes only queue {queue_name(name)} and publishes to {RESULTS_EXCHANGE}")
    say("checked: the collector's URL logs in")
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


def _stderr(line: str) -> None:
    # names and vhosts come from the command line: shown inert
    typer.echo(inert(line), err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(collectors_app, name="collectors")
