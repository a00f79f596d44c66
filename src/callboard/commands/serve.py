"""``callboard serve``: run the server (Studio v2 REST API, webhooks, editor)."""

from __future__ import annotations

import errno
import socket
import sys
from typing import NoReturn

import click

from callboard.commands.compose import build_background
from callboard.commands.database import load_settings, open_services
from callboard.commands.logs import LOG_FORMATS, configure_logging
from callboard.commands.serve_workers import (
    ServerPlan,
    default_workers,
    run_server,
    supervise,
)
from callboard.commands.users import first_owner_message
from callboard.runtime.records import Account
from callboard.runtime.settings import DEFAULT_HOST, DEFAULT_PORT
from callboard.store.locks import STARTUP

__all__ = ["COMMANDS", "bind", "first_run_message", "serve"]

HELP = f"""Start the Callboard server (default http://{DEFAULT_HOST}:{DEFAULT_PORT}).

\b
Environment:
  CALLBOARD_DATABASE_URL  sqlite:///path/to/file.db or postgresql://user@host/db
                          (default: SQLite at $CALLBOARD_DATA_DIR/callboard.db)
  CALLBOARD_DATA_DIR      the data folder (default: the user data folder,
                          e.g. ~/.local/share/callboard; ./run uses ./data)
  CALLBOARD_PUBLIC_URL    the externally visible base URL, e.g. https://cb.example.com
                          (default: each request's own Host; call-backs given to
                          Twilio use the listen address)
  CALLBOARD_TRUSTED_PROXIES  addresses/CIDRs whose X-Forwarded-* headers are
                          believed (default none)
  More settings (limits, egress, throttling): docs/security.md
  CALLBOARD_RETENTION_DAYS_AFTER_END  delete executions this many days after
                          they end (default 30)
  CALLBOARD_STUCK_EXECUTION_DAYS      end and delete executions still active this
                          many days after they start (default 60)
  CALLBOARD_RETENTION_INTERVAL_SECONDS  how often retention runs (default 3600;
                          0 = never in this process)

The server runs one process per CPU core (--workers N to choose), all on the
one port. Durable timers, outbox jobs, retention and Event Streams delivery run
in one of them (and in any `callboard worker` sharing the database; with
--no-background only in those). The database
schema is created or upgraded on start, once. On an empty database the first start
creates an account and prints its Account SID and Auth Token.
"""


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"callboard serve: {message}", err=True)
    sys.exit(code)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else happens, so a port that is taken
    is said at once (and nothing claims to be listening). Exits 2 with a hint."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except OSError as exc:
        _fail(f"cannot listen on {host!r}: {exc}")
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            _fail(
                f"port {port} on {host} is already in use (another `callboard serve`?). "
                f"Stop that program, or choose another port: --port {port + 1 if port else 8081}"
            )
        if exc.errno == errno.EACCES:
            _fail(f"not allowed to listen on port {port} on {host}: choose --port 1024 or above")
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    sock.set_inheritable(True)
    return sock


def first_run_message(account: Account, base: str) -> str:
    """What the person sees when the first account was just created."""
    return "\n".join(
        [
            "",
            "  Created your first account (shown once here; "
            "`callboard accounts list --json` shows it again):",
            f"    Account SID: {account.sid}",
            f"    Auth Token:  {account.auth_token}",
            "",
            "  Call the REST API with HTTP Basic auth (owner rights), e.g.:",
            f"    curl -u {account.sid}:{account.auth_token} {base}/v2/Flows",
            "  or with twilio-python:",
            f"    client = Client('{account.sid}', '{account.auth_token}')",
            f"    client.studio.base_url = '{base}'",
            "",
        ]
    )


@click.command("serve", help=HELP, short_help="Start the server.")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port to listen on.",
)
@click.option("--access-log/--no-access-log", default=False, help="Log every request.")
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    help="json: one JSON object per line, with request and execution SIDs.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Server processes sharing the port (default: one per CPU core). Timers, "
    "outbox jobs, retention and Event Streams delivery run in exactly one of them.",
)
@click.option(
    "--background/--no-background",
    default=True,
    show_default=True,
    help="Run timers, outbox jobs, retention and Event Streams delivery here. "
    "--no-background: answer HTTP only, and leave them to `callboard worker` processes "
    "on the same database (docs/scaling.md).",
)
def serve(
    host: str, port: int, access_log: bool, log_format: str, workers: int | None, background: bool
) -> None:
    settings = load_settings("serve")
    sock = bind(host, port)
    port = sock.getsockname()[1]  # the real one when --port 0
    log_config = configure_logging(log_format)
    count = workers if workers is not None else default_workers()
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    plan = ServerPlan(
        host=host,
        port=port,
        access_log=access_log,
        log_format=log_format,
        listen_url=f"http://{shown_host}:{port}",
        background=background,
        processes=count,
    )
    try:
        # issue 4: Twilio / simulator channels, webhook signatures. The schema is
        # created or upgraded here, once, before any other process starts.
        services = open_services("serve", settings=settings, channel_config=plan.channels())
    except SystemExit:
        sock.close()
        raise
    service, channels = services.callboard, services.channels
    base = settings.public_url or plan.listen_url
    # Under the start-up lock: servers started together on an empty database make one
    # first account and one owner between them (callboard.store.locks).
    with service.db.lock(STARTUP):
        if service.count_accounts() == 0:
            click.echo(first_run_message(service.create_account("First account"), base))
        # issue 14 (teams): on a server without users, the first owner (password shown once)
        owner = first_owner_message(services.team, service.list_accounts()[0].sid, base)
    if owner is not None:
        click.echo(owner)
    if channels.config.skip_signature_check:
        click.echo(
            "callboard: WARNING: CALLBOARD_SKIP_SIGNATURE_CHECK is on: webhooks are accepted "
            "WITHOUT checking X-Twilio-Signature. Never do this on a public server.",
            err=True,
        )
    if not settings.public_url:
        click.echo(
            "callboard: WARNING: CALLBOARD_PUBLIC_URL is not set: URLs are built from each "
            "request's Host, and the call-back URLs given to Twilio use the listen address "
            f"{plan.listen_url}. Set it to the address Twilio reaches.",
            err=True,
        )
    if count > 1:
        services.close()  # each process opens its own connections
    elif background:
        try:  # fail early on a bad Event Streams configuration
            build_background(services, settings)
        except ValueError as exc:
            services.close()
            _fail(str(exc))
    click.echo(
        f"callboard: listening on http://{host}:{port} (public URL: "
        f"{settings.public_url or 'not set'}), {count} process{'es' if count > 1 else ''}"
        + ("" if background else "; background work left to `callboard worker`")
    )
    click.echo(
        f"callboard: REST API {base}/v2/Flows, docs {base}/docs, metrics {base}/metrics; "
        "Ctrl+C stops"
    )
    if count == 1:
        run_server(plan, sock, services, settings, log_config, background=background)
    else:
        sys.exit(supervise(plan, sock, count))


COMMANDS = [serve]
