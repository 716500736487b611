"""Exports of the tiny catalogue: grade filter, xlsx/CSV round trip, JSON Schema, DCAT, diff.

Fixtures (tests/unit/catalog_fixtures.py): fct_orders (一般3), dim_streets (一般1) and the seed
streets (一般1); files are written under ``tmp_path``.
"""

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest
import rdflib
from openpyxl import load_workbook
from rdflib.collection import Collection
from typer.testing import CliRunner

from catalog import standard
from catalog.build import build_catalogue
from catalog.dcat import to_jsonld
from catalog.diff import diff_documents
from catalog.export import (
    ExportError,
    document_for,
    export,
    filter_catalogue,
    read_export,
    write_document,
)
from dagster_project.cli import app
from tests.unit import catalog_fixtures as fx

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "catalog/schema/catalogue.schema.json").read_text(
        encoding="utf-8"
    )
)
STAMP = "2024-07-31T01:00:00+00:00"
# Open namespaces: rdflib's closed DCAT namespace warns when pytest inspects module attributes.
CSVW = rdflib.Namespace("http://www.w3.org/ns/csvw#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
RDF_TYPE = rdflib.URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


@pytest.fixture
def catalogue():
    return build_catalogue(
        fx.manifest(),
        fx.warehouse(),
        config=fx.config(),
        codes=fx.CODES,
        providers=fx.PROVIDERS,
        pii_fields=fx.PII_FIELDS,
    )


@pytest.fixture
def document(catalogue):
    return document_for(catalogue, "一般4", exported_at=STAMP)[0]


def with_grade(catalogue, table, grade):
    resources = tuple(
        dataclasses.replace(r, grade=grade) if r.table == table else r for r in catalogue.resources
    )
    return dataclasses.replace(catalogue, resources=resources)


# Grade filter -------------------------------------------------------------------------------


def test_max_grade_keeps_only_resources_and_items_at_or_below_it(catalogue):
    # 一般2: fct_orders (一般3) is withheld; the two 一般1 resources stay with all their items.
    filtered, withheld = filter_catalogue(catalogue, "一般2")
    assert withheld == ["events.fct_orders"]
    assert [r.table for r in filtered.resources] == ["places.dim_streets", "reference.streets"]
    grades = [i.grade for r in filtered.resources for i in r.items]
    assert grades == ["一般1"] * 4


def test_related_codes_of_withheld_resources_are_dropped(catalogue):
    # dim_streets keeps its link to the seed; nothing points at the withheld fct_orders.
    filtered, _ = filter_catalogue(catalogue, "一般1")
    kept = {code for r in filtered.resources for code in r.related_codes}
    assert kept == {"10300201/0002"}


@pytest.mark.parametrize("grade", ["核心", "重要"])
def test_core_and_important_can_never_be_asked_for(catalogue, grade):
    with pytest.raises(ExportError, match="never appear in an export"):
        filter_catalogue(catalogue, grade)


@pytest.mark.parametrize("grade", ["核心", "重要"])
def test_core_and_important_resources_are_withheld_even_at_the_top_grade(
    catalogue, grade, tmp_path
):
    marked = with_grade(catalogue, "places.dim_streets", grade)
    files, withheld = export(
        marked, "json", tmp_path / "c.json", max_grade="一般4", exported_at=STAMP
    )
    assert withheld == ["places.dim_streets"]
    tables = [r["table"] for r in json.loads(files[0].read_text(encoding="utf-8"))["resources"]]
    assert "places.dim_streets" not in tables


def test_the_writer_refuses_a_document_that_carries_important_data(document, tmp_path):
    document["resources"][0]["items"][0]["grade"] = "重要"
    for fmt in ("json", "xlsx", "csv", "dcat"):
        with pytest.raises(ExportError, match="refusing to export 核心/重要"):
            write_document(document, fmt, tmp_path / f"out.{fmt}")
    assert list(tmp_path.iterdir()) == []


# Round trips and formats ------------------------------------------------------------------------


def test_the_xlsx_read_back_equals_the_json(catalogue, tmp_path):
    export(catalogue, "json", tmp_path / "c.json", exported_at=STAMP)
    export(catalogue, "xlsx", tmp_path / "c.xlsx", exported_at=STAMP)
    assert read_export(tmp_path / "c.xlsx") == read_export(tmp_path / "c.json")


def test_text_that_looks_like_a_formula_stays_text(catalogue, tmp_path):
    marked = dataclasses.replace(
        catalogue,
        resources=(dataclasses.replace(catalogue.resources[0], abstract="=HYPERLINK(1)"),),
    )
    export(marked, "xlsx", tmp_path / "c.xlsx", exported_at=STAMP)
    assert read_export(tmp_path / "c.xlsx")["resources"][0]["abstract"] == "=HYPERLINK(1)"


def test_the_xlsx_has_the_guides_grouped_header_text_codes_and_frozen_panes(catalogue, tmp_path):
    export(catalogue, "xlsx", tmp_path / "c.xlsx", exported_at=STAMP)
    workbook = load_workbook(tmp_path / "c.xlsx")
    assert workbook.sheetnames == ["资源", "信息项", "说明"]
    resources = workbook["资源"]
    merged = {str(cell_range) for cell_range in resources.merged_cells.ranges}
    # 信息资源分类 spans 类 项 目 细目 (B1:E1); 编号 spans both header rows (A1:A2).
    assert {"B1:E1", "A1:A2", "M1:P1"} <= merged
    assert [resources.cell(row=2, column=c).value for c in range(2, 6)] == [
        "类",
        "项",
        "目",
        "细目",
    ]
    code = resources["G3"]  # 信息资源代码 of the first resource
    assert (code.value, code.number_format, code.data_type) == ("10300201/0001", "@", "s")
    assert resources.freeze_panes == "G3"
    assert workbook["信息项"].freeze_panes == "G3"
    assert workbook["信息项"].max_row == 2 + 9  # two header rows, 5 + 2 + 2 items


def test_the_csv_is_utf8_with_a_bom_and_reads_back_equal(catalogue, tmp_path):
    files, _ = export(catalogue, "csv", tmp_path / "csv", exported_at=STAMP)
    assert [f.name for f in files] == ["resources.csv", "items.csv", "catalogue.csv"]
    for file in files:
        assert file.read_bytes().startswith(b"\xef\xbb\xbf")
    export(catalogue, "json", tmp_path / "c.json", exported_at=STAMP)
    assert read_export(tmp_path / "csv") == read_export(tmp_path / "c.json")


def test_the_json_export_follows_the_shipped_schema(document):
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [error.message for error in validator.iter_errors(document)] == []


def test_the_schema_rejects_an_important_grade_and_a_missing_condition(document):
    document["resources"][0]["grade"] = "重要"
    orders = next(r for r in document["resources"] if r["table"] == "events.fct_orders")
    orders["share"]["condition"] = None
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document))
    assert len(errors) == 2


def test_the_schema_lists_the_same_values_as_the_code():
    resource = SCHEMA["$defs"]["resource"]["properties"]
    item = SCHEMA["$defs"]["item"]["properties"]
    assert resource["update_cycle"]["enum"] == list(standard.UPDATE_CYCLES)
    assert resource["share"]["properties"]["type"]["enum"] == list(standard.SHARE_TYPES)
    assert resource["open"]["properties"]["type"]["enum"] == list(standard.OPEN_TYPES)
    assert resource["format"]["properties"]["class"]["enum"] == list(standard.FORMATS)
    assert resource["grade"]["enum"] == list(standard.EXPORTABLE_GRADES)
    assert item["data_type"]["enum"] == list(standard.DATA_TYPES)


def test_the_dcat_export_parses_and_every_dataset_has_the_required_properties(document):
    graph = rdflib.Graph().parse(data=json.dumps(to_jsonld(document)), format="json-ld")
    datasets = list(graph.subjects(RDF_TYPE, DCAT.Dataset))
    assert len(datasets) == 3
    for dataset in datasets:
        for prop in (DCTERMS.title, DCTERMS.identifier, DCTERMS.publisher, DCAT.theme):
            assert graph.value(dataset, prop) is not None, (dataset, prop)
        frequency = str(graph.value(dataset, DCTERMS.accrualPeriodicity))
        assert frequency.startswith(standard.FREQUENCY_NAL)
        assert str(graph.value(dataset, DCTERMS.accessRights)).startswith(standard.ACCESS_RIGHT_NAL)
    orders = next(d for d in datasets if str(graph.value(d, DCTERMS.identifier)) == "21000402/0001")
    assert str(graph.value(orders, DCTERMS.accrualPeriodicity)).endswith("/DAILY")  # 每日
    assert str(graph.value(orders, DCTERMS.accessRights)).endswith("/NON_PUBLIC")  # 不予开放
    namespace = rdflib.Namespace(document["catalogue"]["namespace"])
    assert str(graph.value(orders, namespace.shareType)) == "有条件共享"
    schema = graph.value(orders, DCTERMS.conformsTo)
    columns = list(Collection(graph, graph.value(schema, CSVW.column)))
    assert [str(graph.value(c, CSVW.name)) for c in columns][:2] == ["order_id", "caller_key"]
    assert len(list(graph.subjects(RDF_TYPE, DCAT.Catalog))) == 1


# Diff ------------------------------------------------------------------------------------------


def test_diff_lists_added_removed_and_changed_resources_and_items(document):
    new = json.loads(json.dumps(document))
    new["resources"] = [r for r in new["resources"] if r["table"] != "reference.streets"]
    orders = next(r for r in new["resources"] if r["table"] == "events.fct_orders")
    orders["share"]["condition"] = "仅供承办单位使用"
    orders["items"][0]["grade"] = "一般3"
    orders["items"].pop()  # accepted_at
    new["catalogue"]["exported_at"] = "2024-08-01T00:00:00+00:00"  # not a difference
    result = diff_documents(document, new)
    assert [r["table"] for r in result.removed] == ["reference.streets"]
    assert result.added == ()
    (change,) = result.changed
    assert [(c.field, c.new) for c in change.changes] == [("share.condition", "仅供承办单位使用")]
    assert change.items_removed == ("accepted_at",)
    assert [(i.column, i.changes[0].field) for i in change.items_changed] == [("order_id", "grade")]
    assert result.catalogue == ()
    reverse = diff_documents(new, document)
    assert [r["table"] for r in reverse.added] == ["reference.streets"]


def test_identical_exports_have_no_differences(document):
    assert diff_documents(document, json.loads(json.dumps(document))).is_empty


def test_cityops_catalog_diff_prints_and_emits_json(document, tmp_path):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    write_document(document, "json", old)
    document["resources"] = document["resources"][:1]
    write_document(document, "json", new)
    runner = CliRunner()
    shown = runner.invoke(app, ["catalog", "diff", str(old), str(new)])
    assert shown.exit_code == 0, shown.output
    assert "删除 2" in shown.output
    emitted = runner.invoke(app, ["catalog", "diff", str(old), str(new), "--json"])
    assert len(json.loads(emitted.output)["removed"]) == 2
