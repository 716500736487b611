"""Exports of the tiny catalogue: grade filter, xlsx/CSV round trip, JSON Schema, DCAT, diff.

Fixtures (tests/unit/catalog_fixtures.py): fct_orders (一般3), dim_streets (一般1) and the seed
streets (一般1); the snapshot was published 2024-07-31 08:30 and its data run to 2024-07-30
23:00 (Beijing time); files are written under ``tmp_path``. The xlsx is the copy an officer
files: Chinese text, the data's own dates, and a print setup (A4 landscape, one page wide).
"""

import dataclasses
import datetime as dt
import json
import math
import re
import unicodedata
from pathlib import Path

import duckdb
import jsonschema
import pytest
import rdflib
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from rdflib.collection import Collection
from typer.testing import CliRunner

from catalog import standard
from catalog.build import build_catalogue
from catalog.dbt_artifacts import catalog_from_duckdb
from catalog.dcat import to_jsonld
from catalog.diff import diff_documents
from catalog.export import (
    ITEM_COLUMNS,
    RESOURCE_COLUMNS,
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
    # Row 1 is the title; 信息资源分类 spans 类 项 目 细目 (B2:E2); 编号 spans both header
    # rows (A2:A3).
    assert {"B2:E2", "A2:A3", "M2:P2"} <= merged
    assert [resources.cell(row=3, column=c).value for c in range(2, 6)] == [
        "类",
        "项",
        "目",
        "细目",
    ]
    code = resources["G4"]  # 信息资源代码 of the first resource
    assert (code.value, code.number_format, code.data_type) == ("10300201/0001", "@", "s")
    # Title, header and the name columns stay in view; the filter sits on the label row.
    assert resources.freeze_panes == "G4"
    assert resources.auto_filter.ref == "A3:AB6"
    assert workbook["信息项"].freeze_panes == "G4"
    assert workbook["信息项"].max_row == 3 + 9  # title, two header rows, 5 + 2 + 2 items


# The officer's copy: print setup, Chinese text, the data's own dates, row heights -------------

UNITS = {"mm", "km", "mg"}
CHINESE_THEN_FULL_STOP = re.compile(r"[\u4e00-\u9fff）][.]")  # "商圈名称." stubs
EMOJI = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff]")


def _english(text):
    """Latin words of two letters or more with a lower-case one (not codes, not units)."""
    words = re.findall(r"[A-Za-z]+", text)
    return [w for w in words if len(w) > 1 and not w.isupper() and w not in UNITS] + re.findall(
        r"\b[a-z]\.[a-z]\.", text
    )


def _label(sheet, column):
    """The label of a column: row 3, or row 2 when it spans both header rows."""
    return sheet.cell(row=3, column=column).value or sheet.cell(row=2, column=column).value


def _column(sheet, label):
    """The values of the column headed ``label``, below the title and the header."""
    for column in range(1, sheet.max_column + 1):
        if _label(sheet, column) == label:
            return [sheet.cell(row=r, column=column).value for r in range(4, sheet.max_row + 1)]
    raise AssertionError(f"no column {label}")


def _lines(text, width):
    """A lower bound of the lines a wrapped cell needs: CJK characters take two columns."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return max(1, math.ceil(columns / width))


@pytest.fixture
def workbook(catalogue, tmp_path):
    export(catalogue, "xlsx", tmp_path / "c.xlsx", exported_at=STAMP)
    return load_workbook(tmp_path / "c.xlsx")


@pytest.mark.parametrize("name", ["资源", "信息项", "说明"])
def test_every_sheet_prints_on_a4_landscape_one_page_wide(workbook, name):
    sheet = workbook[name]
    setup = sheet.page_setup
    assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9)  # 9 = A4
    assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True  # else Excel ignores fitTo
    margins = sheet.page_margins
    assert 0.25 <= min(margins.left, margins.right, margins.top, margins.bottom) <= 1
    assert "&P" in sheet.oddFooter.center.text  # page numbers


@pytest.mark.parametrize("name", ["资源", "信息项"])
def test_the_header_rows_repeat_on_every_printed_page(workbook, name):
    sheet = workbook[name]
    assert sheet.print_title_rows == "$2:$3"
    assert sheet.cell(row=2, column=1).value == "编号"
    assert (
        sheet.oddHeader.center.text == f"测试目录　{'信息资源表' if name == '资源' else '信息项表'}"
    )


def test_the_abstracts_and_item_descriptions_are_chinese_only(workbook):
    abstracts = _column(workbook["资源"], "信息资源摘要")
    descriptions = _column(workbook["信息项"], "信息项描述")
    assert len(abstracts) == 3 and len(descriptions) == 9
    for text in abstracts + descriptions:
        assert text, "every 摘要 and 信息项描述 is filled"
        assert _english(text) == [], text
        assert not CHINESE_THEN_FULL_STOP.search(text), text
        assert not EMOJI.search(text), text
    assert "受理时间（北京时间）" in descriptions  # dbt: "受理时间 (Beijing time)."
    assert "街镇名称" in descriptions  # dbt: "街镇名称."


def test_the_dates_are_the_datas_own_not_the_clock(workbook):
    today = dt.datetime.now(dt.UTC).date().isoformat()
    title = workbook["资源"]["A1"].value
    assert "测试目录" in title
    assert "发布日期：2024-07-31" in title and "数据截至：2024-07-30 23:00（北京时间）" in title
    assert today not in title
    head = {row[0]: row[1] for row in workbook["说明"].iter_rows(min_row=2, values_only=True)}
    assert (head["目录发布日期"], head["数据截至"]) == ("2024-07-31", "2024-07-30 23:00")
    assert workbook["资源"].oddHeader.right.text == "数据截至 2024-07-30 23:00（北京时间）"


@pytest.mark.parametrize(
    ("name", "columns"), [("资源", RESOURCE_COLUMNS), ("信息项", ITEM_COLUMNS)]
)
def test_every_row_is_high_enough_for_its_wrapped_text(workbook, name, columns):
    sheet = workbook[name]
    widths = {c.label: c.width for c in columns}
    for column in range(1, len(columns) + 1):
        letter = get_column_letter(column)
        assert sheet.column_dimensions[letter].width == widths[_label(sheet, column)]
    for row in range(4, sheet.max_row + 1):
        height = sheet.row_dimensions[row].height
        assert height is not None, f"{name} row {row} has no height"
        for cell in sheet[row]:
            if cell.value is None:
                continue
            assert cell.alignment.wrap_text, (name, cell.coordinate)
            width = sheet.column_dimensions[cell.column_letter].width
            # At least 12 points a line of 10-point text.
            assert height >= 12 * _lines(str(cell.value), width), (name, cell.coordinate)
    # The header rows hold their labels too (信息资源提供方代码 in an 8-wide column).
    assert sheet.row_dimensions[2].height + sheet.row_dimensions[3].height >= 12 * 3


def test_a_long_abstract_gets_a_taller_row(catalogue, tmp_path):
    long = dataclasses.replace(catalogue.resources[0], abstract="街镇" * 200)
    export(
        dataclasses.replace(catalogue, resources=(long, *catalogue.resources[1:])),
        "xlsx",
        tmp_path / "c.xlsx",
        exported_at=STAMP,
    )
    sheet = load_workbook(tmp_path / "c.xlsx")["资源"]
    # 800 columns of text in a 40-wide column: 20 lines or more.
    assert sheet.row_dimensions[4].height >= 20 * 12
    assert sheet.row_dimensions[4].height > sheet.row_dimensions[5].height


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


def test_the_dcat_catalogue_is_issued_on_the_publication_day_and_covers_the_data_to_its_as_of(
    document,
):
    graph = rdflib.Graph().parse(data=json.dumps(to_jsonld(document)), format="json-ld")
    (catalog,) = graph.subjects(RDF_TYPE, DCAT.Catalog)
    assert graph.value(catalog, DCTERMS.issued).toPython() == dt.date(2024, 7, 31)
    end = graph.value(graph.value(catalog, DCTERMS.temporal), DCAT.endDate).toPython()
    assert end == dt.datetime(2024, 7, 30, 23, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    orders = next(d for d in graph.subjects(RDF_TYPE, DCAT.Dataset) if "21000402" in str(d))
    description = graph.value(orders, DCTERMS.description)
    assert (str(description), description.language) == (
        "12345 热线工单，来电人已假名化。粒度：每张工单一行。",
        "zh",
    )
    distribution = graph.value(orders, DCAT.distribution)
    assert str(graph.value(distribution, DCTERMS["format"])) == "数据库/其他（DuckDB）"


def test_the_snapshot_gives_its_publication_time_and_the_datas_as_of(tmp_path):
    """catalog_from_duckdb reads _serving.snapshot and max(as_of_at) of the vital signs."""
    path = tmp_path / "snapshot.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema _serving")
        con.execute(
            "create table _serving.snapshot as select "
            "timestamptz '2024-07-30 16:30:00+00' as published_at, 'r' as run_id"
        )
        con.execute("create schema vitals")
        con.execute(
            "create table vitals.fct_warning_events as select * from (values "
            "(timestamp '2024-07-30 23:00:00'), (timestamp '2024-07-31 00:00:00')) t(as_of_at)"
        )
        con.execute("create schema places")
        con.execute("create table places.dim_streets (street_code varchar, street_name varchar)")
    warehouse = catalog_from_duckdb(path, fx.manifest())
    # Warehouse timestamps are Beijing time; the publication 16:30 UTC is 00:30 the next day.
    assert warehouse.data_as_of == "2024-07-31 00:00"
    assert dt.datetime.fromisoformat(warehouse.generated_at) == dt.datetime(
        2024, 7, 30, 16, 30, tzinfo=dt.UTC
    )
    catalogue = build_catalogue(
        fx.manifest(),
        dataclasses.replace(fx.warehouse(), generated_at=warehouse.generated_at),
        config=fx.config(),
        codes=fx.CODES,
        providers=fx.PROVIDERS,
        pii_fields=fx.PII_FIELDS,
    )
    assert catalogue.published_date == "2024-07-31"


def test_a_database_without_vital_signs_has_no_as_of(tmp_path):
    path = tmp_path / "plain.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema places")
        con.execute("create table places.dim_streets (street_code varchar, street_name varchar)")
    assert catalog_from_duckdb(path, fx.manifest()).data_as_of == ""


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
