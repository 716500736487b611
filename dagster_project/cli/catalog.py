"""``cityops catalog``: export, compare and maintain the 城运主题数据资源目录.

A thin front over :mod:`catalog`; heavy imports happen inside the commands so ``--help`` is
instant. Registered in ``dagster_project/cli/__init__.py`` with ``add_typer``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from dagster_project.cli.common import console, err
from dagster_project.cli.progress import LineProgress, progress

app = typer.Typer(
    help=(
        "城运主题数据资源目录 — the data-resource catalogue of the topic database, generated "
        "from dbt and the serving snapshot, classified (类/项/目/细目) and graded "
        "(GB/T 43697-2024). See catalog/README.md."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)

REPOSITORY = Path(__file__).resolve().parents[2]
DEFAULT_MANIFEST = REPOSITORY / "dbt" / "target" / "manifest.json"

ManifestOption = Annotated[
    Path | None,
    typer.Option(
        "--manifest",
        help="dbt manifest.json (default: dbt/target/manifest.json, written by `make setup`).",
    ),
]
DatabaseOption = Annotated[
    Path | None,
    typer.Option(
        "--database",
        help="DuckDB file read for column types (default: $CITYOPS_HOME/serving/current.duckdb).",
    ),
]
DbtCatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--dbt-catalog",
        help="Use this catalog.json (dbt docs generate) for column types instead.",
    ),
]


def _progress() -> Progress | LineProgress:
    return progress(
        err, SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn()
    )


def _load(manifest: Path | None, database: Path | None, dbt_catalog: Path | None) -> Any:
    """Build the catalogue, or print every problem and exit with 2."""
    from catalog.config import CatalogueError
    from catalog.dbt_artifacts import ArtifactError
    from catalog.pipeline import load_catalogue
    from ingestion.settings import paths
    from serving import serving_path

    if database is None and dbt_catalog is None:
        database = serving_path(paths())
    try:
        return load_catalogue(
            manifest or DEFAULT_MANIFEST, database=database, dbt_catalog=dbt_catalog
        )
    except (CatalogueError, ArtifactError) as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(code=2) from error


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="xlsx, csv, json or dcat (JSON-LD).")],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="File to write (xlsx, json, dcat); a folder for csv "
            "(resources.csv, items.csv, catalogue.csv).",
        ),
    ],
    max_grade: Annotated[
        str,
        typer.Option(
            "--max-grade",
            help="Only resources and items at or below this grade: 一般4 (default), 一般3, 一般2 "
            "or 一般1. 核心 and 重要 never leave in any export.",
        ),
    ] = "一般4",
    manifest: ManifestOption = None,
    database: DatabaseOption = None,
    dbt_catalog: DbtCatalogOption = None,
) -> None:
    """Export the catalogue as xlsx, CSV, JSON or DCAT (JSON-LD).

    Generates the catalogue from the dbt manifest, the serving snapshot (column types) and
    catalog/catalogue.yml + catalog/codes.yml, validates it (exit 2 listing every problem),
    filters it by `--max-grade` and writes one format. The xlsx has a 资源 and a 信息项
    sheet with the guide's two-row header; CSV is UTF-8 with a BOM; JSON follows
    catalog/schema/catalogue.schema.json; DCAT is DCAT 3 JSON-LD with CSVW column schemas.
    """
    from catalog.export import FORMATS, ExportError
    from catalog.export import export as write_export

    if fmt not in FORMATS:
        err.print(f"[red]--format {fmt!r} is not one of {', '.join(FORMATS)}[/red]")
        raise typer.Exit(code=2)
    with _progress() as progress:
        task = progress.add_task("目录生成: dbt manifest + serving snapshot", total=None)
        catalogue = _load(manifest, database, dbt_catalog)
        progress.update(task, description=f"目录导出: {fmt} → {out}")
        try:
            files, withheld = write_export(catalogue, fmt, out, max_grade=max_grade)
        except ExportError as error:
            err.print(f"[red]{error}[/red]")
            raise typer.Exit(code=2) from error
        progress.update(task, description=f"目录导出: {fmt} done")
    kept = len(catalogue.resources) - len(withheld)
    items = sum(len(r.items) for r in catalogue.resources if r.table not in withheld)
    console.print(
        f"{kept} 信息资源, {items} 信息项 (≤ {max_grade}) → " + ", ".join(str(f) for f in files)
    )
    if withheld:
        console.print(f"Withheld above {max_grade}: {', '.join(withheld)}")
    for warning in catalogue.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}")


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The earlier export: .json, .xlsx or a CSV folder.")],
    new: Annotated[Path, typer.Argument(help="The later export: .json, .xlsx or a CSV folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the resources and items added, removed or changed between two exports.

    Resources are matched by 信息资源代码, items by column. Exits 0 either way; the
    summary line says whether anything changed.
    """
    from catalog.diff import diff_documents
    from catalog.export import ExportError, read_export

    try:
        result = diff_documents(read_export(old), read_export(new))
    except (ExportError, OSError, KeyError, ValueError) as error:
        err.print(f"[red]Cannot compare {old} and {new}: {error!r}[/red]")
        raise typer.Exit(code=2) from error
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    console.print(f"目录比较 {old} → {new}: {result.summary()}")
    for change in result.catalogue:
        console.print(f"  目录 {change.field}: {change.old!r} → {change.new!r}")
    if result.added or result.removed:
        table = Table(title="新增 / 删除的信息资源", title_justify="left")
        for column in ("", "代码", "名称", "数据表", "分级", "信息项"):
            table.add_column(column)
        for mark, rows in (("[green]+[/green]", result.added), ("[red]-[/red]", result.removed)):
            for row in rows:
                table.add_row(
                    mark, row["code"], row["name"], row["table"], row["grade"], str(row["items"])
                )
        console.print(table)
    for change in result.changed:
        console.print(f"[bold]~ {change.code} {change.name}[/bold] ({change.table})")
        for field in change.changes:
            console.print(f"    {field.field}: {field.old!r} → {field.new!r}")
        for column in change.items_added:
            console.print(f"    [green]+ 信息项 {column}[/green]")
        for column in change.items_removed:
            console.print(f"    [red]- 信息项 {column}[/red]")
        for item in change.items_changed:
            for field in item.changes:
                console.print(
                    f"    ~ 信息项 {item.column}.{field.field}: {field.old!r} → {field.new!r}"
                )
    if result.is_empty:
        console.print("No differences.")


@app.command()
def codes(
    assign: Annotated[
        bool,
        typer.Option(
            "--assign",
            help="Give new resources their codes and retire removed or reclassified ones "
            "(writes catalog/codes.yml).",
        ),
    ] = False,
    manifest: ManifestOption = None,
) -> None:
    """Show or assign the 信息资源代码 (分类码/顺序码) in catalog/codes.yml.

    Without `--assign`, lists resources that have no code or a code of an old classification
    (exit 1 if any). With it, assigns the next 顺序码 in each 分类码 and moves removed or
    reclassified resources to `retired`, so no code is ever changed or reused. Needs only
    the dbt manifest (`cd dbt && dbt parse`), not a warehouse.
    """
    from catalog.build import classification_codes
    from catalog.config import CatalogueError, assign_codes, load_codes, write_codes
    from catalog.dbt_artifacts import ArtifactError, read_manifest

    try:
        wanted = classification_codes(read_manifest(manifest or DEFAULT_MANIFEST))
        registry = load_codes()
    except (CatalogueError, ArtifactError) as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(code=2) from error
    updated, changes = assign_codes(registry, wanted, dt.date.today())
    if not changes:
        console.print(f"All {len(wanted)} resources have their codes ({registry.path}).")
        return
    table = Table(title="信息资源代码", title_justify="left")
    for column in ("资源", "变更", "原代码", "新代码"):
        table.add_column(column)
    for change in changes:
        table.add_row(change.name, change.action, change.old_code or "", change.new_code or "")
    console.print(table)
    if not assign:
        console.print("Run `cityops catalog codes --assign` to write these to catalog/codes.yml.")
        raise typer.Exit(code=1)
    path = write_codes(updated)
    console.print(f"Wrote {path}: {len(changes)} changes. Review and commit it.")


@app.command()
def check(
    manifest: ManifestOption = None,
    database: DatabaseOption = None,
    dbt_catalog: DbtCatalogOption = None,
) -> None:
    """Validate the catalogue without exporting: exit 2 listing every problem.

    Checks every published model has a resource with a code, every value is in the
    guide's lists, 有条件共享/有条件开放 have conditions and 不予共享 its basis, codes and
    names are unique; prints the grade distribution and any warnings.
    """
    from collections import Counter

    catalogue = _load(manifest, database, dbt_catalog)
    grades = Counter(resource.grade for resource in catalogue.resources)
    items = sum(len(resource.items) for resource in catalogue.resources)
    console.print(
        f"OK: {len(catalogue.resources)} 信息资源, {items} 信息项; 数据分级 "
        + ", ".join(f"{grade} {count}" for grade, count in sorted(grades.items()))
    )
    for warning in catalogue.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}")
