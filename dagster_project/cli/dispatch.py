"""``cityops dispatch``: the 数字吹哨 orders sent to the disposal system, and its demo stand-in.

Thin fronts over :mod:`vitals.dispatch` (the outbox the platform writes) and
:mod:`demo.disposal` (the demo's disposal system, which answers with a feedback feed).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from dagster_project.cli.common import console, err
from ingestion.settings import paths

app = typer.Typer(
    help=(
        "数字吹哨派单 — the 吹哨 orders sent to the disposal system (dispatch/outbox) and its "
        "acknowledgements (dispatch/acks); `simulate` plays the demo's disposal system."
    ),
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command()
def send() -> None:
    """Write the published snapshot's 吹哨 orders not yet sent to the outbox (idempotent).

    Every `cityops run` and every live cycle does this after publishing; this command is for
    an operator who wants to re-check. An order already in the outbox is never rewritten.
    """
    from serving import serving_path
    from vitals.dispatch import send_orders

    home = paths()
    snapshot = serving_path(home)
    if not snapshot.exists():
        err.print(f"[red]No serving snapshot at {snapshot}.[/red] Run `cityops run` first.")
        raise typer.Exit(code=1)
    console.print(send_orders(home, snapshot).summary())


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """How many orders were sent and how many the disposal system acknowledged."""
    from vitals.dispatch import status as dispatch_status

    report = dispatch_status(paths())
    if as_json:
        payload = {"sent": report.sent, "acknowledged": report.acknowledged}
        console.print_json(json.dumps(payload | {"waiting": report.waiting}))
    else:
        console.print(report.summary())


@app.command()
def simulate(
    seed: Annotated[int, typer.Option(help="Random seed of the simulated units.")] = 7,
) -> None:
    """Play the demo's disposal system: acknowledge the outbox, land its feedback feed.

    For every order in dispatch/outbox it draws what the units do (签收, 退单, 处置中, 反馈,
    核查通过/不通过; some late, some never received) and lands each day's steps that happened
    before the end of the data in landing/disposal/<day>/feedback_YYYYMMDD.csv. The next
    `cityops run` ingests them and closes the loop in vitals.fct_whistle_orders.
    """
    from demo.disposal import simulate as simulate_disposal

    try:
        counts = simulate_disposal(paths(), seed=seed)
    except FileNotFoundError as missing:
        err.print(f"[red]{missing}[/red]")
        raise typer.Exit(code=1) from missing
    steps = ", ".join(
        f"{kind} {counts.get(kind, 0)}"
        for kind in ("签收", "退单", "处置中", "反馈", "核查不通过", "核查通过")
    )
    orders, days = counts.get("orders", 0), counts.get("days", 0)
    console.print(f"处置系统模拟：{orders} 张吹哨工单，{days} 天的反馈文件；{steps}")
