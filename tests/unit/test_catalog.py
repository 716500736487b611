"""The catalogue built from a tiny dbt project: readers, grading, codes and every validation error.

Fixtures (tests/unit/catalog_fixtures.py): fct_orders (假名化, 一般3, five columns),
dim_streets (no personal data, 一般1) and the seed streets (meta from catalogue.yml).
"""

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import yaml

from catalog.build import (
    beijing_date,
    build_catalogue,
    chinese_name,
    classification_codes,
    validate,
)
from catalog.config import (
    CatalogueError,
    CodeEntry,
    CodeRegistry,
    assign_codes,
    load_codes,
    load_config,
    parse_codes,
)
from catalog.dbt_artifacts import ArtifactError, Manifest
from catalog.standard import highest, is_exportable, is_format_type, type_letter
from tests.unit import catalog_fixtures as fx


def build(**changes):
    arguments = {
        "config": fx.config(),
        "codes": fx.CODES,
        "providers": fx.PROVIDERS,
        "pii_fields": fx.PII_FIELDS,
    }
    arguments.update(changes)
    manifest = arguments.pop("manifest", fx.manifest())
    warehouse = arguments.pop("warehouse", fx.warehouse())
    return build_catalogue(manifest, warehouse, **arguments)


def problems_of(**changes):
    with pytest.raises(CatalogueError) as raised:
        build(**changes)
    return raised.value.problems


def replace_resource(catalogue, table, **changes):
    resources = tuple(
        dataclasses.replace(r, **changes) if r.table == table else r for r in catalogue.resources
    )
    return dataclasses.replace(catalogue, resources=resources)


# Readers -----------------------------------------------------------------------------------


def test_the_manifest_reader_keeps_what_the_catalogue_needs_and_ignores_the_rest():
    # The macro with language "javascript" is what dbt-core's own classes reject.
    manifest = fx.manifest()
    node = manifest.nodes["model.cityops.fct_orders"]
    assert node.relation == "events.fct_orders"
    assert node.meta["grade"] == "一般3"
    assert list(node.columns)[:2] == ["order_id", "caller_key"]
    assert [t.test_metadata.name for t in manifest.column_tests(node.unique_id, "caller_key")] == [
        "is_keyed_hash"
    ]
    assert [s.name for s in manifest.upstream_sources(node.unique_id)] == ["hotline_orders"]


def test_an_unsupported_manifest_version_is_refused():
    with pytest.raises(ArtifactError, match=r"v13.*not supported"):
        fx.manifest(version="v13")


def test_a_malformed_manifest_names_the_bad_field():
    data = fx.manifest_dict()
    del data["nodes"]["model.cityops.dim_streets"]["schema"]
    with pytest.raises(
        ArtifactError, match=r"nodes\['model.cityops.dim_streets'\]: missing 'schema'"
    ):
        Manifest.from_dict(data, Path("manifest.json"))


# Names, types, grades ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "name"),
    [
        ("来电人（假名化）— everyone who called.", "来电人（假名化）"),
        ("办理时限（源系统）(Beijing time).", "办理时限（源系统）"),
        ("细颗粒物PM2.5 1小时平均（µg/m³）.", "细颗粒物PM2.5 1小时平均（µg/m³）"),
        ("工单数.", "工单数"),
        ("受理时间 (Beijing time).", "受理时间"),
        ("空气质量分指数 above the table.", "空气质量分指数"),  # no English in a name
        ("一氧化碳24小时平均（mg/m³）.", "一氧化碳24小时平均（mg/m³）"),  # units are not English
    ],
)
def test_the_chinese_name_is_the_start_of_the_description(description, name):
    assert chinese_name(description) == name


@pytest.mark.parametrize(
    ("database_type", "longest", "expected"),
    [
        ("VARCHAR", 12, ("C", "16")),  # capacity: the smallest of 2, 4, 8 … 254 that holds 12
        ("VARCHAR", 300, ("M", None)),  # longer than dBase's 254: 备注型
        ("VARCHAR", None, ("C", None)),  # empty table: no length to state
        ("DECIMAL(4,2)", None, ("N", "4,2")),
        ("INTEGER", None, ("I", None)),
        ("HUGEINT", None, ("I", None)),
        ("DOUBLE", None, ("B", None)),
        ("REAL", None, ("F", None)),
        ("DATE", None, ("D", None)),
        ("TIMESTAMP WITH TIME ZONE", None, ("T", None)),
        ("BOOLEAN", None, ("L", None)),
        ("VARCHAR[]", None, ("M", None)),
        ("BLOB", None, ("G", None)),
    ],
)
def test_database_types_map_to_the_guides_type_letters(database_type, longest, expected):
    assert type_letter(database_type, longest) == expected


def test_a_type_without_a_letter_is_refused():
    with pytest.raises(ValueError, match="GEOMETRY"):
        type_letter("GEOMETRY")


def test_grades_order_from_core_down_and_core_and_important_are_never_exportable():
    assert highest(["一般1", "一般3", "一般2"]) == "一般3"
    assert highest(["一般4", "重要"]) == "重要"
    assert not is_exportable("重要", "一般4")
    assert not is_exportable("核心", "一般4")
    assert is_exportable("一般2", "一般2") and not is_exportable("一般3", "一般2")


def test_columns_are_graded_from_contract_pii_flags_and_dbt_tests():
    orders = build().resource("events.fct_orders")
    grades = {item.column: item.grade for item in orders.items}
    # caller_key: is_keyed_hash test → pseudonym 一般3; caller_phone_masked: contract field
    # caller_phone (pii) masked → 一般2; content_scrubbed: contract field content → 一般3;
    # the rest are not personal: the baseline 一般2 of a dataset with personal data.
    assert grades == {
        "order_id": "一般2",
        "caller_key": "一般3",
        "caller_phone_masked": "一般2",
        "content_scrubbed": "一般3",
        "accepted_at": "一般2",
    }
    reasons = {item.column: item.grade_reason for item in orders.items}
    assert "is_keyed_hash" in reasons["caller_key"]
    assert "hotline_orders.caller_phone" in reasons["caller_phone_masked"]
    assert "hotline_orders.content" in reasons["content_scrubbed"]


def test_the_resource_takes_its_highest_item_grade_with_the_reason():
    orders = build().resource("events.fct_orders")
    # Highest item 一般3 (caller_key, the first of the two 一般3 columns) equals the dbt grade.
    assert orders.grade == "一般3"
    assert "caller_key" in orders.grade_reason and "就高从严" in orders.grade_reason


def test_an_item_above_the_declared_grade_lifts_the_resource_and_warns():
    data = fx.manifest_dict()
    data["nodes"]["model.cityops.fct_orders"]["config"]["meta"]["grade"] = "一般2"
    catalogue = build(manifest=Manifest.from_dict(data, Path("m.json")))
    orders = catalogue.resource("events.fct_orders")
    assert orders.grade == "一般3"  # 就高从严: the column wins over the dbt meta
    assert "高于数据集定级 一般2" in orders.grade_reason
    assert any("below its column caller_key" in warning for warning in catalogue.warnings)


def test_a_declared_grade_above_every_item_is_kept_with_its_reason():
    data = fx.manifest_dict()
    data["nodes"]["model.cityops.fct_orders"]["config"]["meta"]["grade"] = "一般4"
    orders = build(manifest=Manifest.from_dict(data, Path("m.json"))).resource("events.fct_orders")
    assert orders.grade == "一般4"
    assert "数据集定级 一般4" in orders.grade_reason and "最高 一般3" in orders.grade_reason
    # Non-personal columns never exceed the baseline, whatever the dataset's grade.
    assert orders.items[0].grade == "一般2"


def test_a_column_override_wins_with_its_reason():
    orders = build(
        config=fx.config(
            columns={"fct_orders.accepted_at": {"grade": "一般3", "reason": "时间可定位来电"}}
        )
    ).resource("events.fct_orders")
    accepted = next(item for item in orders.items if item.column == "accepted_at")
    assert (accepted.grade, accepted.grade_reason) == (
        "一般3",
        "时间可定位来电（catalogue.yml columns）",
    )


def test_a_seed_takes_its_fields_from_the_catalogue_yaml_defaults():
    streets = build().resource("reference.streets")
    assert streets.name == "街镇代码表"  # name_suffix keeps it apart from dim_streets (街镇)
    assert (streets.grade, streets.update_cycle, streets.share_type) == (
        "一般1",
        "不定期",
        "无条件共享",
    )
    assert streets.classification.code == "10300201"
    assert streets.code == "10300201/0002"


def test_related_codes_follow_dbt_lineage_through_unpublished_models():
    catalogue = build()
    # fct_orders reads stg_orders (restricted, not a resource) and dim_streets.
    assert catalogue.resource("events.fct_orders").related_codes == ("10300201/0001",)
    assert catalogue.resource("places.dim_streets").related_codes == ("10300201/0002",)


def test_keywords_merge_every_level():
    assert build().resource("events.fct_orders").keywords == ("静安区", "12345")


# Chinese text and the data's own dates ------------------------------------------------------


def test_items_describe_themselves_in_the_chinese_part_of_the_dbt_description():
    catalogue = build()
    descriptions = {
        (resource.table, item.column): item.description
        for resource in catalogue.resources
        for item in resource.items
    }
    # "受理时间 (Beijing time)." — the English note has a fixed Chinese form (phrases).
    assert descriptions["events.fct_orders", "accepted_at"] == "受理时间（北京时间）"
    # "来电人假名键 — keyed hash." — the English explanation is left out.
    assert descriptions["events.fct_orders", "caller_key"] == "来电人假名键"
    # "街镇名称." — the English full stop after a Chinese name goes.
    assert descriptions["places.dim_streets", "street_name"] == "街镇名称"
    # A Chinese explanation stays, with its list written the Chinese way and a full stop.
    assert descriptions["reference.streets", "street_code"] == (
        "街镇代码：12 位统计用区划代码，如310106012000。"
    )


def test_the_abstract_comes_from_the_catalogue_yaml_or_else_the_chinese_name_with_a_warning():
    catalogue = build()
    orders = catalogue.resource("events.fct_orders")
    assert orders.abstract == "12345 热线工单，来电人已假名化。粒度：每张工单一行。"
    # The seed has no abstract in catalogue.yml: only the Chinese part of "街镇 — the street
    # list. Grain: …", and a warning naming where to write one.
    assert catalogue.resource("reference.streets").abstract == "街镇"
    assert any("abstracts.streets" in warning for warning in catalogue.warnings)


def test_an_abstract_or_item_description_in_english_or_with_emoji_fails_validation():
    catalogue = build()
    streets = catalogue.resource("places.dim_streets")
    items = (dataclasses.replace(streets.items[0], description="街镇代码 ❓"), *streets.items[1:])
    broken = replace_resource(
        catalogue, "places.dim_streets", abstract="商圈 — the four districts.", items=items
    )
    problems = validate(broken)
    assert (
        "places.dim_streets: 信息资源摘要 is not Chinese only: English words 'the', 'four', "
        "'districts'" in problems
    )
    assert "places.dim_streets.street_code: 信息项描述 is not Chinese only: emoji ❓" in problems


def test_an_english_abstract_in_the_catalogue_yaml_is_refused_when_read():
    abstracts = {"fct_orders": "工单 — one row per order."}
    with pytest.raises(CatalogueError) as raised:
        fx.config(abstracts=abstracts)
    assert raised.value.problems == [
        "abstracts.fct_orders must be Chinese only (the officer's catalogue); found English "
        "words 'one', 'row', 'per', 'order'"
    ]


def test_an_abstract_for_a_model_that_does_not_exist_fails():
    abstracts = {**fx.config_dict()["abstracts"], "dim_roads": "道路。"}
    assert problems_of(config=fx.config(abstracts=abstracts)) == [
        "catalogue.yml abstracts.dim_roads: no published model or seed of that name"
    ]


def test_the_catalogue_dates_are_the_snapshots_publication_and_the_datas_as_of():
    catalogue = build()
    # Published 2024-07-31T00:30Z = 08:30 in Beijing; the data run to 2024-07-30 23:00.
    assert (catalogue.published_date, catalogue.data_as_of) == ("2024-07-31", "2024-07-30 23:00")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert today not in (catalogue.published_date, catalogue.data_as_of[:10])
    # A resource's 发布日期 is the day its code was registered (codes.yml).
    assert {r.published_date for r in catalogue.resources} == {"2024-07-01"}


@pytest.mark.parametrize(
    ("stamp", "day"),
    [
        ("2024-07-30T16:30:00+00:00", "2024-07-31"),  # 00:30 the next day in Beijing
        ("2024-07-30T15:59:00Z", "2024-07-30"),
        ("2024-07-30T23:00:00", "2024-07-30"),  # no zone: already local
        ("", ""),
    ],
)
def test_the_publication_day_is_counted_in_beijing_time(stamp, day):
    assert beijing_date(stamp) == day


@pytest.mark.parametrize(
    ("format_type", "allowed"),
    [
        ("其他（DuckDB）", True),  # the list's 其他, naming the product
        ("其他", True),
        ("mysql", True),
        ("DuckDB", False),  # not in the guide's list
        ("其他()", False),
        ("其他（）", False),
        ("数据库表", False),
    ],
)
def test_a_database_format_type_is_from_the_guides_list_or_names_its_other(format_type, allowed):
    assert is_format_type("数据库", format_type) is allowed


def test_the_format_is_a_database_named_duckdb_and_passes_validation():
    # The shipped catalogue.yml and the fixture say the same: every resource is a table of the
    # DuckDB serving snapshot.
    assert load_config().defaults_all["format"] == {"class": "数据库", "type": "其他（DuckDB）"}
    orders = build().resource("events.fct_orders")
    assert (orders.format_class, orders.format_type) == ("数据库", "其他（DuckDB）")
    wrong = replace_resource(build(), "events.fct_orders", format_type="DuckDB")
    assert any("格式类型 'DuckDB' is not one of" in problem for problem in validate(wrong))


# Codes --------------------------------------------------------------------------------------


def test_new_resources_get_the_next_sequence_and_removed_codes_are_never_reused():
    today = dt.date(2024, 8, 1)
    registry = CodeRegistry(
        {"a": CodeEntry("a", "21000402/0001", "2024-07-01")},
        (CodeEntry("gone", "21000402/0002", "2024-07-01", "2024-07-15"),),
    )
    # a keeps its code; b is new in the same class: 0003, since 0002 was given once.
    updated, changes = assign_codes(registry, {"a": "21000402", "b": "21000402"}, today)
    assert updated.active["a"].code == "21000402/0001"
    assert updated.active["b"].code == "21000402/0003"
    assert [(c.name, c.action) for c in changes] == [("b", "新增")]
    # a removed: retired, its code stays reserved.
    again, changes = assign_codes(updated, {"b": "21000402"}, today)
    assert "a" not in again.active
    assert ("a", "21000402/0001", "2024-08-01") in [
        (e.name, e.code, e.retired) for e in again.retired
    ]


def test_a_reclassified_resource_gets_a_new_code_and_the_old_one_is_retired():
    registry = CodeRegistry({"a": CodeEntry("a", "21000402/0001", "2024-07-01")})
    updated, changes = assign_codes(registry, {"a": "21000502"}, dt.date(2024, 8, 1))
    assert updated.active["a"].code == "21000502/0001"
    assert changes[0].action == "重新分类" and changes[0].old_code == "21000402/0001"
    assert [e.code for e in updated.retired] == ["21000402/0001"]


def test_assigning_twice_changes_nothing():
    wanted = classification_codes(fx.manifest(), fx.config())
    first, _ = assign_codes(CodeRegistry({}), wanted, dt.date(2024, 7, 1))
    second, changes = assign_codes(first, wanted, dt.date(2024, 9, 1))
    assert changes == [] and second.active == first.active


def test_a_malformed_code_in_the_registry_is_refused():
    with pytest.raises(CatalogueError, match="not 分类码/顺序码"):
        parse_codes({"resources": {"a": {"code": "2100/1", "registered": "2024-07-01"}}})


# Validation: every problem is named, all at once ---------------------------------------------


def test_conditional_sharing_without_a_condition_fails():
    data = fx.manifest_dict()
    del data["nodes"]["model.cityops.fct_orders"]["config"]["meta"]["share_condition"]
    problems = problems_of(manifest=Manifest.from_dict(data, Path("m.json")))
    assert problems == ["events.fct_orders: 有条件共享 requires a 共享条件 (meta.share_condition)"]


def test_no_sharing_without_its_basis_fails():
    catalogue = replace_resource(build(), "places.dim_streets", share_type="不予共享")
    assert validate(catalogue) == [
        "places.dim_streets: 不予共享 requires its 依据 (meta.share_condition)"
    ]


def test_conditional_opening_without_a_condition_fails():
    catalogue = replace_resource(build(), "places.dim_streets", open_type="有条件开放")
    assert validate(catalogue) == [
        "places.dim_streets: 有条件开放 requires an 开放条件 (meta.open_condition)"
    ]


def test_duplicate_codes_fail():
    catalogue = replace_resource(build(), "reference.streets", code="10300201/0001")
    assert "code 10300201/0001 is used by 2 resources: places.dim_streets, reference.streets" in (
        validate(catalogue)
    )


def test_a_published_model_without_a_code_fails_naming_the_fix():
    codes = CodeRegistry({k: v for k, v in fx.CODES.active.items() if k != "dim_streets"})
    assert problems_of(codes=codes) == [
        "places.dim_streets: no 信息资源代码 in catalog/codes.yml — run `cityops catalog codes "
        "--assign` and commit the file"
    ]


def test_a_published_model_missing_from_the_warehouse_fails():
    problems = problems_of(warehouse=fx.warehouse(drop={"model.cityops.dim_streets"}))
    assert problems == [
        "places.dim_streets: not in the warehouse — build and publish it first (`cityops run`, "
        "or `cityops publish` after a manual dbt build)"
    ]


def test_completeness_names_every_published_model_without_a_resource():
    catalogue = build()
    partial = dataclasses.replace(catalogue, resources=catalogue.resources[:1])
    expected = [resource.table for resource in catalogue.resources]
    missing = [p for p in validate(partial, expected_tables=expected) if "has no resource" in p]
    assert len(missing) == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("update_cycle", "每两天", "更新周期 '每两天' is not one of"),
        ("share_type", "部分共享", "共享类型 '部分共享' is not one of"),
        ("open_type", "开放", "开放属性 '开放' is not one of"),
        ("format_type", "parquet", "格式类型 'parquet' is not one of"),
        ("share_method_type", "文件", "a 数据库 resource is shared by 数据库 or 接口"),
        ("grade", "二级", "数据分级 '二级' is not one of"),
    ],
)
def test_every_value_must_come_from_the_guides_lists(field, value, message):
    catalogue = replace_resource(build(), "places.dim_streets", **{field: value})
    assert any(message in problem for problem in validate(catalogue)), validate(catalogue)


def test_an_item_type_letter_outside_the_guide_fails():
    catalogue = build()
    streets = catalogue.resource("places.dim_streets")
    items = (dataclasses.replace(streets.items[0], data_type="X"), *streets.items[1:])
    broken = replace_resource(catalogue, "places.dim_streets", items=items)
    assert any("street_code 数据类型 'X'" in problem for problem in validate(broken))


def test_an_unknown_theme_and_element_fail_before_any_code_is_checked():
    data = fx.manifest_dict()
    meta = data["nodes"]["model.cityops.dim_streets"]["config"]["meta"]
    meta.update(resource_category="主题信息资源/不存在", element="天")
    problems = problems_of(manifest=Manifest.from_dict(data, Path("m.json")))
    assert problems == [
        "places.dim_streets: theme '不存在' of '主题信息资源/不存在' has no 项 code in "
        "catalogue.yml classification.themes.主题信息资源",
        "places.dim_streets: element '天' is not one of 人·地·物·事·情·组织",
    ]


def test_the_catalogue_yaml_must_not_repeat_dbt_meta():
    models = {**fx.config_dict()["models"], "dim_streets": {"grade": "一般2"}}
    assert problems_of(config=fx.config(models=models)) == [
        "catalogue.yml models.dim_streets.grade: already in the dbt meta of "
        "models/places/_places.yml; keep it in one place"
    ]


def test_columns_must_match_the_documentation_both_ways():
    data = fx.manifest_dict()
    data["nodes"]["model.cityops.dim_streets"]["columns"]["street_area"] = {
        "name": "street_area",
        "description": "面积.",
    }
    problems = problems_of(
        manifest=Manifest.from_dict(data, Path("m.json")),
        warehouse=fx.warehouse(
            extra_columns={"model.cityops.dim_streets": [("population", "INTEGER")]}
        ),
    )
    assert problems == [
        "places.dim_streets.street_area: documented in dbt but not in the table",
        "places.dim_streets.population: no description in dbt — add it to models/places/*.yml "
        "(信息项名称 comes from it)",
    ]


def test_all_problems_are_listed_at_once():
    data = fx.manifest_dict()
    meta = data["nodes"]["model.cityops.fct_orders"]["config"]["meta"]
    del meta["share_condition"]
    meta["update_cycle"] = "每两天"
    codes = CodeRegistry({k: v for k, v in fx.CODES.active.items() if k != "streets"})
    with pytest.raises(CatalogueError) as raised:
        build(manifest=Manifest.from_dict(data, Path("m.json")), codes=codes)
    assert len(raised.value.problems) == 3
    assert "(3 problems)" in str(raised.value)


# The shipped files ---------------------------------------------------------------------------


def test_the_shipped_catalogue_yaml_and_code_registry_load_and_cover_every_seed():
    config, codes = load_config(), load_codes()
    seeds = {
        seed["name"]
        for path in (Path(__file__).resolve().parents[2] / "dbt" / "seeds").glob("*.yml")
        for seed in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("seeds", [])
    }
    # Seeds have no dbt meta: their element and theme must come from catalogue.yml.
    missing = sorted(
        seed
        for seed in seeds
        if not {"element", "resource_category"} <= set(config.models.get(seed, {}))
    )
    assert missing == []
    assert seeds <= set(codes.active)
    assert len({entry.code for entry in codes.active.values()}) == len(codes.active)
    # Every seed has a Chinese 摘要, and every 摘要 names a model or seed of the dbt project.
    assert sorted(seeds - set(config.abstracts)) == []
    dbt = Path(__file__).resolve().parents[2] / "dbt"
    models = {
        model["name"]
        for path in (dbt / "models").rglob("*.yml")
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []
    }
    assert sorted(set(config.abstracts) - models - seeds) == []
