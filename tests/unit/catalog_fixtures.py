"""A tiny dbt project as artifacts, for the catalogue's unit tests (no dbt, no warehouse).

One lake source (hotline_orders, whose contract marks caller_phone and content as personal),
a restricted staging model over it, and three published resources:

- events.fct_orders       model, 假名化, declared 一般3, 有条件共享: five columns
- places.dim_streets      model, no personal data, declared 一般1
- reference.streets       seed, no dbt meta: catalogue.yml supplies it (一般1 by default)

Descriptions mix Chinese and English as the real ones do; catalogue.yml has a Chinese 摘要 for
the two models, not for the seed. The snapshot was published 2024-07-31 08:30 Beijing time and
its data run to 2024-07-30 23:00.
"""

import copy

from catalog.config import CodeEntry, CodeRegistry, parse_config
from catalog.dbt_artifacts import CatalogColumn, CatalogTable, DbtCatalog, Manifest

PII_FIELDS = {"hotline_orders": {"caller_phone": "来电号码", "content": "诉求内容"}}
PROVIDERS = {"区城运中心": "D15"}

ORDERS_META = {
    "owner_department": "区城运中心",
    "element": "事",
    "resource_category": "主题信息资源/社区治理",
    "grade": "一般3",
    "personal_information": "假名化",
    "share_type": "有条件共享",
    "share_condition": "仅供承办单位办理诉求使用",
    "open_type": "不予开放",
    "update_cycle": "每日",
}
STREETS_META = {
    "owner_department": "区城运中心",
    "element": "地",
    "resource_category": "基础信息资源/自然资源和空间地理",
    "grade": "一般1",
    "personal_information": "无",
    "share_type": "无条件共享",
    "open_type": "无条件开放",
    "update_cycle": "每年",
}


def _node(kind, name, schema, description, columns, meta=None, depends_on=(), **extra):
    return {
        "unique_id": f"{kind}.cityops.{name}",
        "resource_type": kind,
        "name": name,
        "package_name": "cityops",
        "database": "cityops",
        "schema": schema,
        "alias": name,
        "description": description,
        "columns": {
            column: {"name": column, "description": text, "meta": {}, "data_type": None}
            for column, text in columns.items()
        },
        "config": {"meta": meta or {}, "materialized": "table"},
        "depends_on": {"nodes": list(depends_on)},
        "original_file_path": f"models/{schema}/_{schema}.yml",
        **extra,
    }


def manifest_dict(version="v12"):
    """The manifest.json of the tiny project."""
    nodes = [
        _node(
            "model",
            "stg_orders",
            "restricted",
            "工单（明文）— clear. Grain: one row per order.",
            {"order_id": "工单编号.", "caller_phone": "来电号码.", "content": "诉求内容."},
            meta={**ORDERS_META, "personal_information": "明文", "share_type": "不予共享"},
            depends_on=["source.cityops.hotline.hotline_orders"],
        ),
        _node(
            "model",
            "fct_orders",
            "events",
            "工单事实表 — one row per order. Grain: one row per order.",
            {
                "order_id": "工单编号.",
                "caller_key": "来电人假名键 — keyed hash.",
                "caller_phone_masked": "来电号码（掩码）— 138****5678.",
                "content_scrubbed": "诉求内容（脱敏）— numbers replaced.",
                "accepted_at": "受理时间 (Beijing time).",
            },
            meta=ORDERS_META,
            depends_on=["model.cityops.stg_orders", "model.cityops.dim_streets"],
        ),
        _node(
            "model",
            "dim_streets",
            "places",
            "街镇 — the streets. Grain: one row per street.",
            {"street_code": "街镇代码.", "street_name": "街镇名称."},
            meta=STREETS_META,
            depends_on=["seed.cityops.streets"],
        ),
        _node(
            "seed",
            "streets",
            "reference",
            "街镇 — the street list. Grain: one row per street.",
            {
                "street_code": "街镇代码 — 12 位统计用区划代码, e.g. 310106012000.",
                "street_name": "街镇名称.",
            },
        ),
        _node(
            "test",
            "is_keyed_hash_fct_orders_caller_key",
            "dbt_test__audit",
            "",
            {},
            depends_on=["model.cityops.fct_orders"],
            test_metadata={"name": "is_keyed_hash", "kwargs": {"column_name": "caller_key"}},
            attached_node="model.cityops.fct_orders",
            column_name="caller_key",
        ),
    ]
    return copy.deepcopy(
        {
            "metadata": {
                "dbt_schema_version": f"https://schemas.getdbt.com/dbt/manifest/{version}.json",
                "dbt_version": "1.11.16",
                "generated_at": "2024-07-31T00:00:00Z",
                "project_name": "cityops",
            },
            "nodes": {node["unique_id"]: node for node in nodes},
            "sources": {
                "source.cityops.hotline.hotline_orders": {
                    "unique_id": "source.cityops.hotline.hotline_orders",
                    "source_name": "hotline",
                    "name": "hotline_orders",
                    "meta": {},
                }
            },
            "macros": {"macro.dbt.anything": {"supported_languages": ["javascript"]}},
        }
    )


def manifest(version="v12"):
    """The tiny project's manifest, read by the typed reader."""
    from pathlib import Path

    return Manifest.from_dict(manifest_dict(version), Path("manifest.json"))


TABLES = {
    "model.cityops.fct_orders": (
        "events",
        "fct_orders",
        [
            ("order_id", "VARCHAR"),
            ("caller_key", "VARCHAR"),
            ("caller_phone_masked", "VARCHAR"),
            ("content_scrubbed", "VARCHAR"),
            ("accepted_at", "TIMESTAMP WITH TIME ZONE"),
        ],
    ),
    "model.cityops.dim_streets": (
        "places",
        "dim_streets",
        [("street_code", "VARCHAR"), ("street_name", "VARCHAR")],
    ),
    "seed.cityops.streets": (
        "reference",
        "streets",
        [("street_code", "VARCHAR"), ("street_name", "VARCHAR")],
    ),
}
# Longest values: order ids 16, pseudonyms 64 (hex SHA-256), masked phone 11, street code 12.
LENGTHS = {
    ("model.cityops.fct_orders", "order_id"): 16,
    ("model.cityops.fct_orders", "caller_key"): 64,
    ("model.cityops.fct_orders", "caller_phone_masked"): 11,
    ("model.cityops.fct_orders", "content_scrubbed"): 300,
    ("model.cityops.dim_streets", "street_code"): 12,
}


# The serving snapshot's publication (UTC; 2024-07-31 08:30 in Beijing) and the data's as-of.
PUBLISHED_AT = "2024-07-31T00:30:00+00:00"
DATA_AS_OF = "2024-07-30 23:00"


def warehouse(drop=(), extra_columns=None):
    """The tiny project's tables as the warehouse has them (a DbtCatalog)."""
    nodes = {}
    for unique_id, (schema, name, columns) in TABLES.items():
        if unique_id in drop:
            continue
        columns = columns + (extra_columns or {}).get(unique_id, [])
        nodes[unique_id] = CatalogTable(
            unique_id,
            schema,
            name,
            "BASE TABLE",
            {c: CatalogColumn(c, t, i) for i, (c, t) in enumerate(columns, start=1)},
        )
    return DbtCatalog(PUBLISHED_AT, nodes, LENGTHS, data_as_of=DATA_AS_OF)


def config_dict():
    """A minimal catalogue.yml."""
    return {
        "catalogue": {
            "title": "测试目录",
            "title_en": "Test catalogue",
            "publisher": "区城运中心",
            "base_iri": "https://cityops.invalid/catalog/",
            "namespace": "https://cityops.invalid/ns#",
        },
        "classification": {
            "kinds": {"基础信息资源": "1", "主题信息资源": "2", "部门信息资源": "3"},
            "themes": {
                "基础信息资源": {"自然资源和空间地理": "03"},
                "主题信息资源": {"社区治理": "10"},
            },
            "elements": {
                "人": "001",
                "地": "002",
                "物": "003",
                "事": "004",
                "情": "005",
                "组织": "006",
            },
            "layers": {"维度": "01", "明细": "02"},
            "layer_by_prefix": {"dim_": "维度", "fct_": "明细"},
        },
        "grading": {
            "non_personal": "一般2",
            "personal": {
                "pseudonym": {"grade": "一般3", "basis": "假名仍属个人信息"},
                "masked": {"grade": "一般2", "basis": "已掩码"},
                "scrubbed": {"grade": "一般3", "basis": "姓名未清洗"},
            },
        },
        "defaults": {
            "all": {
                "format": {"class": "数据库", "type": "其他（DuckDB）"},
                "share_method": {"class": "共享平台方式", "type": "数据库"},
                "keywords": ["静安区"],
            },
            "schemas": {
                "reference": {
                    "name_suffix": "代码表",
                    "layer": "维度",
                    "owner_department": "区城运中心",
                    "grade": "一般1",
                    "personal_information": "无",
                    "share_type": "无条件共享",
                    "open_type": "无条件开放",
                    "update_cycle": "不定期",
                }
            },
        },
        "models": {
            "streets": {"element": "地", "resource_category": "基础信息资源/自然资源和空间地理"},
            "fct_orders": {"keywords": ["12345"]},
        },
        "phrases": {"Beijing time": "北京时间"},
        "abstracts": {
            "fct_orders": "12345 热线工单，来电人已假名化。粒度：每张工单一行。",
            "dim_streets": "静安区的街道和镇。粒度：每个街道或镇一行。",
        },
    }


def config(**changes):
    """The parsed minimal catalogue.yml, with top-level sections replaced by ``changes``."""
    return parse_config({**config_dict(), **changes})


# 分类码: fct_orders 2 10 004 02; dim_streets 1 03 002 01; streets 1 03 002 01.
CODES = CodeRegistry(
    {
        "fct_orders": CodeEntry("fct_orders", "21000402/0001", "2024-07-01"),
        "dim_streets": CodeEntry("dim_streets", "10300201/0001", "2024-07-01"),
        "streets": CodeEntry("streets", "10300201/0002", "2024-07-01"),
    }
)
