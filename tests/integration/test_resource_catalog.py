"""The 城运主题数据资源目录 generated from a real dbt build and serving snapshot.

The session's small warehouse (tests/conftest.py: the small lake, 4 days at scale 0.02, one
full ``dbt build`` shared with the other modules, then the serving snapshot; the manifest
comes from the same run, so it holds whatever models exist now). The tests export through
the CLI and the Dagster asset and read the files back.
"""

import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import jsonschema
import pytest
import rdflib
from openpyxl import load_workbook
from typer.testing import CliRunner

from catalog.build import classification_codes, published_nodes
from catalog.config import load_codes
from catalog.dbt_artifacts import read_manifest
from catalog.export import ITEM_COLUMNS, RESOURCE_COLUMNS, read_export
from catalog.pipeline import load_catalogue
from catalog.standard import EXPORTABLE_GRADES, grade_rank
from catalog.text import english_words, has_emoji
from dagster_project.cli import app
from dagster_project.defs.catalog.assets import CatalogueRunConfig, resource_catalog
from dagster_project.defs.ingestion.resources import CityopsHome
from ingestion.settings import paths
from serving import UNPUBLISHED_SCHEMAS, describe, serving_path

pytestmark = pytest.mark.integration

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "catalog/schema/catalogue.schema.json").read_text(
        encoding="utf-8"
    )
)
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
RDF_TYPE = rdflib.URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


@pytest.fixture(scope="module")
def built(small_warehouse):
    """(home, manifest path): the session's built and published small warehouse."""
    home, target = small_warehouse
    return home, target / "manifest.json"


@pytest.fixture(scope="module")
def exports(built, tmp_path_factory):
    """Every format written by `cityops catalog export`, plus a copy capped at 一般2."""
    home, manifest = built
    out = tmp_path_factory.mktemp("catalog_exports")
    runner = CliRunner()
    targets = {
        "json": out / "catalogue.json",
        "xlsx": out / "catalogue.xlsx",
        "csv": out / "csv",
        "dcat": out / "catalogue.jsonld",
    }
    for fmt, path in [*targets.items(), ("json-一般2", out / "capped.json")]:
        arguments = ["catalog", "export", "--format", fmt.split("-")[0], "--out", str(path)]
        if fmt == "json-一般2":
            arguments += ["--max-grade", "一般2"]
        result = runner.invoke(
            app, [*arguments, "--manifest", str(manifest)], env={"CITYOPS_HOME": str(home)}
        )
        assert result.exit_code == 0, result.output
    return {**targets, "capped": out / "capped.json"}


def _published_columns(home):
    """{(schema.table, column)} of every published table in the serving snapshot."""
    with duckdb.connect(str(serving_path(paths(home))), read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema != '_serving'"
        ).fetchall()
    return {(f"{schema}.{table}", column) for schema, table, column in rows}


def test_every_published_model_has_a_code_and_a_resource_with_every_column(built):
    home, manifest_path = built
    manifest = read_manifest(manifest_path)
    # The CI guard for a new model: it must be given a code (cityops catalog codes --assign).
    unassigned = set(classification_codes(manifest)) - set(load_codes().active)
    assert unassigned == set()
    catalogue = load_catalogue(manifest_path, database=serving_path(paths(home)))
    expected = {node.relation for node in published_nodes(manifest)}
    assert {resource.table for resource in catalogue.resources} == expected
    assert not any(node.schema in UNPUBLISHED_SCHEMAS for node in published_nodes(manifest))
    items = {(r.table, item.column) for r in catalogue.resources for item in r.items}
    assert items == _published_columns(home)
    # The topic database's six elements and the vital-sign marts are all there.
    schemas = {table.split(".")[0] for table in expected}
    assert {
        "people",
        "places",
        "things",
        "events",
        "situations",
        "organisations",
        "vitals",
    } <= schemas


def test_an_officer_finds_every_table_and_column_with_its_grade_in_the_xlsx(built, exports):
    home, _ = built
    workbook = load_workbook(exports["xlsx"], read_only=True)
    rows = list(workbook["信息项"].iter_rows(min_row=4, values_only=True))  # below the header
    labels = [column.label for column in ITEM_COLUMNS]
    table, column, grade = (labels.index(label) for label in ("数据表", "字段名", "级别"))
    found = {(row[table], row[column]) for row in rows}
    assert found == _published_columns(home)
    assert {row[grade] for row in rows} <= set(EXPORTABLE_GRADES)
    workbook.close()


def test_the_xlsx_carries_the_snapshots_dates_chinese_text_and_prints_on_a4(built, exports):
    home, _ = built
    snapshot = serving_path(paths(home))
    with duckdb.connect(str(snapshot), read_only=True) as con:
        (as_of,) = con.execute("select max(as_of_at) from vitals.fct_warning_events").fetchone()
    published = describe(snapshot).published_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
    workbook = load_workbook(exports["xlsx"])
    title = workbook["资源"]["A1"].value
    # The small lake's days, not the day the test runs.
    assert f"数据截至：{as_of:%Y-%m-%d %H:%M}（北京时间）" in title
    assert f"发布日期：{published.isoformat()}" in title
    abstract = [column.label for column in RESOURCE_COLUMNS].index("信息资源摘要")
    description = [column.label for column in ITEM_COLUMNS].index("信息项描述")
    texts = [row[abstract] for row in workbook["资源"].iter_rows(min_row=4, values_only=True)]
    texts += [row[description] for row in workbook["信息项"].iter_rows(min_row=4, values_only=True)]
    wrong = [t for t in texts if english_words(t or "") or has_emoji(t or "")]
    wrong += [t for t in texts if re.search(r"[\u4e00-\u9fff][.]", t or "")]
    assert wrong == []
    for name in ("资源", "信息项"):
        sheet = workbook[name]
        assert (sheet.page_setup.orientation, int(sheet.page_setup.paperSize)) == ("landscape", 9)
        assert sheet.print_title_rows == "$2:$3"
        heights = [sheet.row_dimensions[r].height for r in range(4, sheet.max_row + 1)]
        assert None not in heights


def _unstamped(document):
    """The document without its export time (each CLI call is a separate export)."""
    document["catalogue"].pop("exported_at")
    return document


def test_the_xlsx_and_csv_read_back_equal_the_json(exports):
    document = _unstamped(read_export(exports["json"]))
    assert _unstamped(read_export(exports["xlsx"])) == document
    assert _unstamped(read_export(exports["csv"])) == document
    assert (exports["csv"] / "items.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_the_json_export_follows_the_shipped_schema(exports):
    document = json.loads(exports["json"].read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)] == []


def test_the_dcat_export_parses_and_every_dataset_is_fully_described(exports):
    graph = rdflib.Graph().parse(exports["dcat"], format="json-ld")
    document = read_export(exports["json"])
    datasets = list(graph.subjects(RDF_TYPE, DCAT.Dataset))
    assert len(datasets) == len(document["resources"])
    for dataset in datasets:
        for prop in (
            DCTERMS.title,
            DCTERMS.identifier,
            DCTERMS.publisher,
            DCAT.theme,
            DCTERMS.accrualPeriodicity,
        ):
            assert graph.value(dataset, prop) is not None, (dataset, prop)


def test_max_grade_keeps_nothing_above_it_and_diff_names_what_was_left_out(exports):
    full, capped = read_export(exports["json"]), read_export(exports["capped"])
    limit = grade_rank("一般2")
    assert all(grade_rank(r["grade"]) <= limit for r in capped["resources"])
    assert all(grade_rank(i["grade"]) <= limit for r in capped["resources"] for i in r["items"])
    above = {r["table"] for r in full["resources"] if grade_rank(r["grade"]) > limit}
    assert above  # the pseudonymised people and events marts are 一般3 or 一般4
    result = CliRunner().invoke(
        app, ["catalog", "diff", str(exports["json"]), str(exports["capped"]), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert {r["table"] for r in json.loads(result.output)["removed"]} == above


def test_two_exports_of_the_same_snapshot_do_not_differ(built, tmp_path, exports):
    home, manifest = built
    again = tmp_path / "again.json"
    result = CliRunner().invoke(
        app,
        ["catalog", "export", "-f", "json", "-o", str(again), "--manifest", str(manifest)],
        env={"CITYOPS_HOME": str(home)},
    )
    assert result.exit_code == 0, result.output
    shown = CliRunner().invoke(app, ["catalog", "diff", str(exports["json"]), str(again)])
    assert "No differences." in shown.output


def test_the_dagster_asset_writes_every_format_under_the_home(built):
    home, manifest = built
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [resource_catalog],
            instance=instance,
            resources={"cityops": CityopsHome(home=str(home))},
            run_config={
                "ops": {
                    "catalog__resource_catalog": {
                        "config": CatalogueRunConfig(manifest=str(manifest)).model_dump()
                    }
                }
            },
        )
    assert result.success
    folder = home / "catalog"
    assert sorted(path.name for path in folder.iterdir()) == [
        "catalogue.json",
        "catalogue.jsonld",
        "catalogue.xlsx",
        "csv",
    ]
    (materialization,) = result.asset_materializations_for_node("catalog__resource_catalog")
    assert materialization.metadata["resources"].value == len(
        read_export(folder / "catalogue.json")["resources"]
    )
