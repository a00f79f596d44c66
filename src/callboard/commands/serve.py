"""``callboard serve``: run the server (Studio v2 REST API, webhooks, editor)."""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

import click

from callboard.commands.compose import build_background, build_services
from callboard.runtime.records import Account
from callboard.runtime.settings import DEFAULT_HOST, DEFAULT_PORT, Settings, SettingsError
from callboard.store.db import DatabaseError

__all__ = ["COMMANDS", "first_run_message", "serve"]

HELP = f"""Start the Callboard server (default http://{DEFAULT_HOST}:{DEFAULT_PORT}).

\b
Environment:
  CALLBOARD_DATABASE_URL  sqlite:///path/to/file.db or postgresql://user@host/db
                          (default: SQLite at $CALLBOARD_DATA_DIR/callboard.db)
  CALLBOARD_DATA_DIR      the data folder (default ./data)
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

Durable timers, outbox jobs and retention run inside the server (and in any
`callboard worker` sharing the database). The database schema is created or
upgraded on start. On an empty database the first
start creates an account and prints its Account SID and Auth Token.
"""


KEEP_ALIVE_SECONDS = 5  # an idle keep-alive connection is closed after this


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"callboard serve: {message}", err=True)
    sys.exit(code)


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
            "  Log in to the editor with the Account SID as user name and the Auth Token as",
            "  password. Call the REST API with HTTP Basic auth, e.g.:",
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
def serve(host: str, port: int, access_log: bool) -> None:
    import uvicorn

    from callboard.api.app import create_app
    from callboard.commands.http_protocol import GuardedHttpProtocol

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        _fail(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    shown = settings.database_url
    try:
        from sqlalchemy.engine import make_url

        shown = make_url(settings.database_url).render_as_string(hide_password=True)
    except Exception:
        pass
    click.echo(f"callboard: database {shown}")
    try:  # issue 4: Twilio / simulator channels, webhook signatures
        services = build_services(settings)
    except (DatabaseError, ValueError) as exc:
        _fail(str(exc))
    service, channels = services.callboard, services.channels
    click.echo("callboard: database schema is up to date")
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = settings.public_url or f"http://{shown_host}:{port}"
    if service.count_accounts() == 0:
        click.echo(first_run_message(service.create_account("First account"), base))
    if channels.config.skip_signature_check:
        click.echo(
            "callboard: WARNING: CALLBOARD_SKIP_SIGNATURE_CHECK is on: webhooks are accepted "
            "WITHOUT checking X-Twilio-Signature. Never do this on a public server.",
            err=True,
        )
    if not settings.public_url:
        channels.router.listen_base = f"http://{shown_host}:{port}"
        click.echo(
            "callboard: WARNING: CALLBOARD_PUBLIC_URL is not set: URLs are built from each "
            "request's Host, and the call-back URLs given to Twilio use the listen address "
            f"http://{shown_host}:{port}. Set it to the address Twilio reaches.",
            err=True,
        )
    try:  # timers, outbox jobs, hourly retention and Event Streams delivery, in-process
        background = build_background(services, settings)
        app = create_app(services, settings, background=background)  # its lifespan runs them
    except ValueError as exc:
        _fail(str(exc))
    click.echo(
        f"callboard: listening on http://{host}:{port} (public URL: "
        f"{settings.public_url or 'not set'})"
    )
    click.echo(f"callboard: REST API {base}/v2/Flows, docs {base}/docs; Ctrl+C stops")
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            access_log=access_log,
            log_level="info",
            http=GuardedHttpProtocol,  # closes connections that send no request head
            proxy_headers=False,  # callboard.api.proxies: only CALLBOARD_TRUSTED_PROXIES
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=10,
        )
    finally:
        services.close()


COMMANDS = [serve]
