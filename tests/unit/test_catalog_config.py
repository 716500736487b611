"""catalogue.yml and codes.yml: each mistake is named by the path of its field, all at once.

The minimal catalogue.yml is ``catalog_fixtures.config_dict()``; each test breaks one part of it.
"""

import copy
import datetime as dt

import pytest

from catalog.config import ENTRY_KEYS, CatalogueError, parse_codes, parse_config
from tests.unit import catalog_fixtures as fx


def problems_in(change):
    data = copy.deepcopy(fx.config_dict())
    change(data)
    with pytest.raises(CatalogueError) as raised:
        parse_config(data)
    return raised.value.problems


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: d["classification"]["kinds"].update({"主题信息资源": "12"}),
            "classification.kinds.主题信息资源: code '12' must be 1 digit",
        ),
        (
            # YAML reads an unquoted 01 as the number 1: the code must be quoted text.
            lambda d: d["classification"]["layers"].update({"维度": 1}),
            "classification.layers.维度: code 1 must be quoted text of 2 digits",
        ),
        (
            lambda d: d["classification"]["kinds"].pop("部门信息资源"),
            "classification.kinds must list every one of 基础信息资源·主题信息资源·部门信息资源 "
            "(missing 部门信息资源)",
        ),
        (
            lambda d: d["classification"]["elements"].update({"人": "002"}),
            "classification.elements: codes used twice: 002",
        ),
        (
            lambda d: d["classification"]["themes"].update({"其他信息资源": {}}),
            "classification.themes.其他信息资源: '其他信息资源' is not one of '基础信息资源', "
            "'主题信息资源' or '部门信息资源'",
        ),
        (
            lambda d: d["classification"]["layer_by_prefix"].update({"kpi_": "应用"}),
            "classification.layer_by_prefix.kpi_: '应用' is not a layer (维度, 明细)",
        ),
        (
            lambda d: d["grading"]["personal"]["masked"].update({"grade": "二级"}),
            "grading.personal.masked.grade: '二级' is not one of '核心', '重要', '一般4', "
            "'一般3', '一般2' or '一般1'",
        ),
        (
            lambda d: d["grading"]["personal"].pop("scrubbed"),
            "grading.personal.scrubbed is missing",
        ),
        (lambda d: d["catalogue"].update({"title": " "}), "catalogue.title is empty"),
        (
            lambda d: d["models"]["fct_orders"].update({"keyword": ["重复"]}),
            "models.fct_orders.keyword: unknown field",
        ),
        (
            lambda d: d["defaults"]["schemas"]["reference"].update({"grades": "一般1"}),
            "defaults.schemas.reference.grades: unknown field",
        ),
        (
            lambda d: d.update({"columns": {"fct_orders": {"grade": "一般3", "reason": "时间"}}}),
            "columns.fct_orders: 'fct_orders' must be written model.column",
        ),
        (lambda d: d.update({"grading": ["一般2"]}), "grading: ['一般2'] is not a mapping"),
        (lambda d: d.update({"model": {}}), "model: unknown field"),
    ],
)
def test_a_mistake_in_the_catalogue_yaml_is_named_by_its_field(change, problem):
    assert problems_in(change) == [problem]


def test_every_mistake_in_the_catalogue_yaml_is_listed_at_once():
    def change(data):
        del data["catalogue"]["publisher"]
        data["models"]["streets"]["layers"] = "维度"

    assert problems_in(change) == [
        "catalogue.publisher is missing",
        "models.streets.layers: unknown field",
    ]


def test_an_entry_takes_every_catalogue_key_and_keeps_only_what_is_written():
    entry = {key: "x" for key in ENTRY_KEYS} | {
        "format": {"class": "数据库"},
        "share_method": {"class": "共享平台方式", "type": "数据库"},
        "keywords": ["热线", 12345],  # YAML reads 12345 as a number: kept as written
        "share_condition": None,
    }
    config = fx.config(models={**fx.config_dict()["models"], "fct_orders": entry})
    assert config.models["fct_orders"] == entry
    assert config.models["streets"] == fx.config_dict()["models"]["streets"]


def test_a_malformed_registry_entry_is_named_by_its_field():
    data = {
        "resources": {"a": {"code": "21000402/0001", "registered": "2024-7-1", "owner": "x"}},
        "retired": [{"name": "b", "code": "2100/1", "registered": "2024-07-01"}],
    }
    with pytest.raises(CatalogueError) as raised:
        parse_codes(data)
    assert raised.value.problems == [
        "resources.a.registered: '2024-7-1' is not a date YYYY-MM-DD",
        "resources.a.owner: unknown field",
        "retired.1.code: '2100/1' is not 分类码/顺序码 (8 digits / 4 digits)",
    ]


def test_an_unquoted_registry_date_is_read_as_text():
    # YAML reads an unquoted 2024-07-01 as a date; the registry means the same day.
    registry = parse_codes(
        {"resources": {"a": {"code": "21000402/0001", "registered": dt.date(2024, 7, 1)}}}
    )
    assert registry.active["a"].registered == "2024-07-01"
