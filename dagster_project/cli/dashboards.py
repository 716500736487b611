"""``cityops dashboards``: run Apache Superset with the provisioned dashboards.

A thin front over :mod:`dashboards` (plain Python); heavy imports happen inside the commands
so ``--help`` is instant. Registered in ``dagster_project/cli/__init__.py`` with ``add_typer``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dagster_project.cli.common import console, err

app = typer.Typer(
    help=(
        "城运看板 — Apache Superset dashboards on the serving snapshot: 城市运行生命体征, "
        "12345 热线与网格运行, 数据质量与资源目录. Provisioned from dashboards/spec/ "
        "(see dashboards/README.md)."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)

PortOption = Annotated[
    int | None,
    typer.Option(
        "--port",
        help="Port on 127.0.0.1 (default: the one the server was started on, else 8088).",
        min=1,
        max=65535,
    ),
]


def _target(port: int | None):  # -> dashboards.settings.Instance
    from dashboards.settings import instance

    return instance(port=port)


def _print_login(target) -> None:
    from dashboards.settings import admin

    login = admin(target)
    password = (
        "(the password in SUPERSET_ADMIN_PASSWORD)"
        if login.from_environment
        else f"{login.password}   (generated, kept in {target.secrets_file})"
    )
    console.print(f"看板 Dashboards: [bold]{target.url}[/bold]")
    console.print(f"登录 Login: [bold]{login.username}[/bold] / {password}")


@app.command()
def up(port: PortOption = None) -> None:
    """Install Superset if needed, initialise it, serve it on 127.0.0.1 and provision everything.

    Installs the pinned apache-superset (dashboards/requirements.txt, plus the pipeline's
    duckdb) into .superset-venv/ with the repository's uv; keeps its metadata, secrets, log
    and pid file in $CITYOPS_HOME/superset/; imports the database, datasets, charts and
    dashboards of dashboards/spec/; creates the roles 领导, 分析师 and one per street with
    row-level security, and a test user per role. Safe to run again on a running instance:
    it re-provisions in place.
    """
    from dashboards.catalog import CatalogError
    from dashboards.provision import ProvisionError
    from dashboards.server import ServerError
    from dashboards.server import up as bring_up
    from dashboards.spec import SpecError

    target = _target(port)
    try:
        done = bring_up(target, report=lambda message: err.print(f"[dim]{message}[/dim]"))
    except (ServerError, ProvisionError, CatalogError, SpecError) as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(code=1) from error
    result = done.provision
    if done.install_seconds is not None:
        console.print(f"Installed Superset in {done.install_seconds:.0f} s.")
    console.print(
        ("Started" if done.started else "Already running")
        + f"; provisioned {len(result.dataset_ids)} datasets, {len(result.chart_ids)} charts, "
        f"{len(result.dashboard_ids)} dashboards and {len(result.users)} users in "
        f"{result.seconds:.1f} s (total {done.total_seconds:.0f} s)."
    )
    for slug, datasets in result.skipped_dashboards.items():
        err.print(
            f"[yellow]Dashboard {slug} not provisioned: the serving snapshot lacks "
            f"{', '.join(datasets)}[/yellow] — rebuild and publish (`cityops run`), "
            "then `up` again."
        )
    for key, reason in result.missing_datasets.items():
        err.print(f"[yellow]  {key}: {reason}[/yellow]")
    for removed in result.deleted:
        console.print(f"Removed (no longer in the spec): {removed}")
    for slug in result.dashboard_ids:
        console.print(f"  {target.url}/superset/dashboard/{slug}/")
    _print_login(target)
    console.print(
        f"Test users (leader, analyst, street_jnl …): passwords in {target.secrets_file}; "
        "`cityops dashboards status` lists them."
    )


@app.command()
def down() -> None:
    """Stop the Superset server that `cityops dashboards up` started for $CITYOPS_HOME."""
    from dashboards.server import stop

    target = _target(None)
    # The pid file is per home, whatever port it was started on.
    if stop(target):
        console.print(f"Stopped the Superset of {target.folder}.")
    else:
        console.print(f"Superset is not running (no live pid in {target.pid_file}).")


@app.command()
def status(
    port: PortOption = None,
    show_passwords: Annotated[
        bool, typer.Option("--show-passwords", help="Also print the test users' passwords.")
    ] = False,
) -> None:
    """Show whether Superset is installed, initialised and answering, and its users."""
    import json

    from dashboards.provision import ANALYST, LEADER, streets
    from dashboards.server import status as server_status

    target = _target(port)
    state = server_status(target)
    table = Table(title=f"Superset — {target.url}", title_justify="left")
    table.add_column("")
    table.add_column("")
    table.add_row("installed", f"{state.installed}  ({target.venv})")
    table.add_row("initialised", f"{state.initialised}  ({target.metadata_db})")
    table.add_row("running", f"pid {state.pid}" if state.pid else "no")
    table.add_row("healthy", str(state.healthy))
    table.add_row("log", str(target.log_file))
    console.print(table)
    users = {"leader": LEADER, "analyst": ANALYST} | {s.username: s.role for s in streets()}
    passwords = {}
    if target.secrets_file.exists():
        passwords = json.loads(target.secrets_file.read_text(encoding="utf-8")).get("users", {})
    listing = Table(title="Provisioned users 测试用户", title_justify="left")
    for column in ("user", "role", "password"):
        listing.add_column(column)
    for username, role in users.items():
        known = username in passwords
        shown = passwords[username] if show_passwords and known else ("••••" if known else "—")
        listing.add_row(username, role, shown)
    console.print(listing)
    _print_login(target)
    if not state.healthy:
        raise typer.Exit(code=1)


@app.command()
def login(port: PortOption = None) -> None:
    """Print the URL and the admin login (the password is generated on first use)."""
    _print_login(_target(port))
