"""``cityops``: the operator's command line for the city-operations lakehouse.

Every command is a thin front over importable code (``ingestion``, ``demo``, ``quality``,
``serving``, ``vitals``, ``catalog``, ``dashboards``, ``bench``) or over the Dagster jobs
(:mod:`dagster_project.execution`); heavy imports happen inside commands so ``--help`` is
instant. One module per command group:

- ``pipeline``: ``generate``, ``run``, ``backfill``, ``status``, ``publish``;
- ``vitals``: ``warnings``, ``indicators``, ``notify``;
- ``live``: the live path (a landed batch to a warning within a minute), and replays;
- ``backtest``: the warnings scored against the generator's planted incidents;
- ``quality``: ``quality``, ``freshness``;
- ``bench``, ``catalog``, ``dashboards``, ``dispatch``: the sub-command groups of those names.
"""

import typer

from dagster_project.cli import pipeline, quality, vitals
from dagster_project.cli.backtest import backtest
from dagster_project.cli.bench import app as bench_app
from dagster_project.cli.catalog import app as catalog_app
from dagster_project.cli.dashboards import app as dashboards_app
from dagster_project.cli.dispatch import app as dispatch_app
from dagster_project.cli.live import live

app = typer.Typer(
    help=(
        "cityops — 城运指标湖仓 city-operations lakehouse for 静安区 一网统管.\n\n"
        "Data lives under $CITYOPS_HOME (default ./data): landing/, lake/raw/, "
        "lake/quarantine/, warehouse/."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(bench_app, name="bench")
app.add_typer(catalog_app, name="catalog")
app.add_typer(dashboards_app, name="dashboards")
app.add_typer(dispatch_app, name="dispatch")
# In this order in `cityops --help`: the daily workflow first.
for command in (
    pipeline.generate,
    pipeline.run,
    pipeline.status,
    vitals.warnings,
    vitals.indicators,
    vitals.notify,
    live,
    backtest,
    pipeline.publish,
    pipeline.backfill,
    quality.freshness,
    quality.quality,
):
    app.command()(command)
