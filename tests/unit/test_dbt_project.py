"""The dbt project's conventions, read from its files (no dbt, no warehouse).

Every model has a grain, Chinese column names and a complete catalogue ``meta`` block;
every model outside ``restricted`` carries the PII scan; sources and lookups agree with the
ingestion contracts they mirror; the layout keeps ``dbt/`` out of the Python namespace.
"""

import csv
import datetime as dt
import importlib.util
import itertools
import re
from functools import cache
from pathlib import Path

import chinese_calendar
import pytest
import yaml

from ingestion.iot.contract import DEVICE_TYPES, METRICS
from ingestion.sources import CONTRACTS

DBT = Path(__file__).resolve().parents[2] / "dbt"
MODELS = DBT / "models"
CJK = re.compile(r"[\u4e00-\u9fff]")

ELEMENTS = {"人", "地", "物", "事", "情", "组织"}
RESOURCE_KINDS = {"基础信息资源", "主题信息资源", "部门信息资源"}
GRADES = {"核心", "重要", "一般4", "一般3", "一般2", "一般1"}
SHARE_TYPES = {"无条件共享", "有条件共享", "不予共享"}
OPEN_TYPES = {"无条件开放", "有条件开放", "不予开放"}
UPDATE_CYCLES = {"实时", "每日", "每周", "每月", "每季度", "每年"}
PERSONAL_INFORMATION = {"明文", "假名化", "无"}
REQUIRED_META = {
    "owner_department",
    "element",
    "resource_category",
    "grade",
    "personal_information",
    "share_type",
    "open_type",
    "update_cycle",
}


def _yaml_files():
    return sorted(MODELS.rglob("*.yml"))


@cache
def _model_properties():
    """Every model's properties from the YAML files, by name."""
    models = {}
    for path in _yaml_files():
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models", []):
            assert model["name"] not in models, f"{model['name']} is described twice"
            models[model["name"]] = {**model, "_path": path}
    return models


def _model_files():
    """SQL and Python models by name."""
    return {path.stem: path for path in MODELS.rglob("*") if path.suffix in (".sql", ".py")}


def _meta(model):
    return (model.get("config") or {}).get("meta") or model.get("meta") or {}


def _schema(model, sql):
    """The schema a model lands in: its own config, else its folder's (dbt_project.yml)."""
    match = re.search(r"schema\s*=\s*'(\w+)'", sql)
    if match:
        return match.group(1)
    parts = model["_path"].relative_to(MODELS).parts
    return {"staging": "staging", "intermediate": "intermediate"}.get(parts[0], parts[1])


def _test_names(tests):
    for test in tests or []:
        yield test if isinstance(test, str) else next(iter(test))


def catalogue_problems(name, model):
    """What is missing or invalid in one model's description and meta block."""
    problems = []
    if "Grain:" not in (model.get("description") or ""):
        problems.append("description does not state the grain ('Grain: …')")
    if not CJK.search(model.get("description") or ""):
        problems.append("description has no Chinese name")
    meta = _meta(model)
    for key in sorted(REQUIRED_META - meta.keys()):
        problems.append(f"meta.{key} is missing")
    checks = {
        "element": ELEMENTS,
        "grade": GRADES,
        "share_type": SHARE_TYPES,
        "open_type": OPEN_TYPES,
        "update_cycle": UPDATE_CYCLES,
        "personal_information": PERSONAL_INFORMATION,
    }
    for key, allowed in checks.items():
        if key in meta and meta[key] not in allowed:
            problems.append(f"meta.{key} = {meta[key]!r} is not one of {sorted(allowed)}")
    kind = str(meta.get("resource_category", "")).split("/")[0]
    if kind not in RESOURCE_KINDS:
        problems.append("meta.resource_category must start with a 1272 资源属性分类")
    if meta.get("share_type") in ("有条件共享", "不予共享") and not meta.get("share_condition"):
        problems.append("meta.share_condition (条件 or 依据) is required for this share_type")
    if meta.get("personal_information") == "明文" and meta.get("share_type") != "不予共享":
        problems.append("clear personal data must be 不予共享")
    return [f"{name}: {problem}" for problem in problems]


def test_every_model_file_is_described_and_every_description_has_a_model():
    assert set(_model_files()) == set(_model_properties())


def test_every_model_states_its_grain_and_carries_a_complete_catalogue_meta_block():
    problems = [
        problem
        for name, model in _model_properties().items()
        for problem in catalogue_problems(name, model)
    ]
    assert problems == []


def test_the_meta_check_fails_when_a_catalogue_field_is_missing():
    model = {
        "description": "示例 — Grain: one row per thing.",
        "config": {"meta": {"element": "事", "grade": "一般2"}},
    }
    problems = catalogue_problems("example", model)
    assert "example: meta.owner_department is missing" in problems
    assert "example: meta.update_cycle is missing" in problems


def test_every_column_is_described_with_its_chinese_name():
    missing = [
        f"{name}.{column['name']}"
        for name, model in _model_properties().items()
        for column in model.get("columns", [])
        if not CJK.search(column.get("description") or "")
    ]
    assert missing == []


def test_every_model_outside_restricted_carries_the_pii_scan():
    properties = _model_properties()
    unscanned = []
    for name, path in _model_files().items():
        model = properties[name]
        schema = _schema(model, path.read_text(encoding="utf-8"))
        if schema != "restricted" and "no_clear_pii" not in _test_names(model.get("data_tests")):
            unscanned.append(name)
    assert unscanned == []


def test_clear_personal_data_lives_only_in_restricted_staging_models():
    properties = _model_properties()
    for name, path in _model_files().items():
        model = properties[name]
        schema = _schema(model, path.read_text(encoding="utf-8"))
        if _meta(model)["personal_information"] == "明文":
            assert schema == "restricted", name
            assert name.startswith("stg_"), name


def test_only_staging_models_read_sources_and_every_model_ends_with_the_final_cte():
    for name, path in _model_files().items():
        if path.suffix != ".sql":
            continue
        sql = path.read_text(encoding="utf-8")
        assert ("source(" in sql) == name.startswith("stg_"), name
        assert sql.rstrip().endswith("select * from final"), name


def test_sources_mirror_the_ingestion_contracts():
    tables = {}
    lake_sources = {contract.source for contract in CONTRACTS}
    for path in MODELS.glob("staging/*/_*__sources.yml"):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]:
            if source["name"] not in lake_sources:  # e.g. `quality`: the store, the logs
                continue
            for table in source["tables"]:
                tables[table["name"]] = (source["name"], table)
    assert set(tables) == {contract.table for contract in CONTRACTS}
    for contract in CONTRACTS:
        source_name, table = tables[contract.table]
        assert source_name == contract.source
        assert table["config"]["meta"]["dagster"]["asset_key"] == ["raw", contract.table]
        columns = [column["name"] for column in table["columns"]]
        lineage = ["_source_file", "_source_record", "dt"]
        assert columns == [f.name for f in contract.fields] + lineage
        for field in contract.fields:
            description = next(c for c in table["columns"] if c["name"] == field.name)
            assert description["description"].startswith(field.description or field.name)


def _seed(name):
    with (DBT / "seeds" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_metric_and_device_type_lookups_match_the_iot_contract():
    metrics = {row["metric"]: row for row in _seed("iot_metrics")}
    assert set(metrics) == set(METRICS)
    for metric, (device_type, unit, _, _) in METRICS.items():
        assert (metrics[metric]["device_type"], metrics[metric]["unit"]) == (device_type, unit)
    types = {row["device_type"]: row for row in _seed("iot_device_types")}
    assert {t: (r["device_id_prefix"], r["device_type_name"]) for t, r in types.items()} == (
        DEVICE_TYPES
    )


def test_dispatch_rule_versions_are_contiguous_per_matter():
    by_matter = {}
    for row in _seed("dispatch_rules"):
        by_matter.setdefault(row["matter_code"], []).append(row)
    for matter, rules in by_matter.items():
        rules.sort(key=lambda row: int(row["version"]))
        assert rules[-1]["valid_to"] == "", f"{matter}: the newest version must be in force"
        for earlier, later in itertools.pairwise(rules):
            assert earlier["valid_to"] == later["valid_from"], matter


def _calendar_script():
    spec = importlib.util.spec_from_file_location(
        "build_calendar", DBT / "scripts" / "build_calendar.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_calendar_is_what_the_script_writes_from_chinese_calendar():
    rows = _seed("workday_calendar")
    first, last = (
        dt.date.fromisoformat(rows[0]["calendar_date"]),
        dt.date.fromisoformat(rows[-1]["calendar_date"]),
    )
    expected = _calendar_script().calendar_rows(first, last)
    assert [{k: str(v) for k, v in row.items()} for row in expected] == rows


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        ("2024-10-01", "holiday"),  # 国庆节
        ("2024-09-29", "makeup_workday"),  # Sunday worked for 国庆
        ("2024-04-07", "makeup_workday"),  # Sunday worked for 清明
        ("2024-07-06", "weekend"),
        ("2024-07-08", "workday"),
    ],
)
def test_the_calendar_knows_holidays_and_makeup_days(day, kind):
    row = next(r for r in _seed("workday_calendar") if r["calendar_date"] == day)
    assert row["day_kind"] == kind
    assert (row["is_workday"] == "true") == chinese_calendar.is_workday(dt.date.fromisoformat(day))


def test_dbt_folder_stays_out_of_the_python_namespace():
    # The repository root is on sys.path: dbt/__init__.py would shadow the dbt package.
    assert not list(DBT.rglob("__init__.py"))
    assert not (DBT / "tests").exists()
