"""The catalogue as DCAT 3 in JSON-LD, for exchange outside the Chinese catalogue systems.

Mapping (domain.md §1.5; the mappings are this project's 💡, the vocabularies ✅):

- the catalogue → ``dcat:Catalog`` (``dct:title``, ``dct:publisher``, ``dct:issued`` and
  ``dct:modified``: the edition's 发布日期, ``dct:temporal`` ending at the data's 数据截至,
  ``dcat:themeTaxonomy``: the 类/项/目/细目 classification as a ``skos:ConceptScheme``);
- a resource → ``dcat:Dataset``: 名称 ``dct:title@zh``, 代码 ``dct:identifier``, 摘要
  ``dct:description``, 提供方 ``dct:publisher`` (``foaf:Agent`` with its code), 分类
  ``dcat:theme`` (four ``skos:Concept``), 关键字 ``dcat:keyword``, 更新周期
  ``dct:accrualPeriodicity`` (EU frequency NAL), 开放属性 ``dct:accessRights`` (EU
  access-right NAL), 共享/开放条件 ``dct:rights``, 发布日期 ``dct:issued``, 关联资源
  ``dct:relation``, 信息项 ``dct:conformsTo`` a CSVW ``csvw:Schema`` whose ``csvw:column``
  list holds each column;
- 共享属性 and 数据分级 have no DCAT term: they use extension properties in the project
  namespace (``catalogue.namespace`` in catalogue.yml): ``shareType``, ``shareCondition``,
  ``shareMethodClass``, ``shareMethodType``, ``openCondition``, ``grade``, ``gradeReason``,
  ``dataTypeCode``, ``length``, ``table``;
- a shared resource gets a ``dcat:Distribution`` served by the serving snapshot
  (``dcat:DataService``); a 不予共享 one has no distribution.

The ``@context`` is inline, so parsers never fetch anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from catalog.standard import ACCESS_RIGHT_NAL, ACCESS_RIGHTS, FREQUENCIES, FREQUENCY_NAL
from ingestion import files

XSD_TYPES = {
    "C": "xsd:string",
    "M": "xsd:string",
    "N": "xsd:decimal",
    "Y": "xsd:decimal",
    "D": "xsd:date",
    "T": "xsd:dateTime",
    "L": "xsd:boolean",
    "G": "xsd:base64Binary",
    "B": "xsd:double",
    "I": "xsd:integer",
    "F": "xsd:float",
}
LEVELS = ("kind", "theme", "element", "layer")
LEVEL_NAMES = {"kind": "类", "theme": "项", "element": "目", "layer": "细目"}


def _context(namespace: str) -> dict[str, Any]:
    return {
        "dcat": "http://www.w3.org/ns/dcat#",
        "dct": "http://purl.org/dc/terms/",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "csvw": "http://www.w3.org/ns/csvw#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "cityops": namespace,
    }


def _zh(text: str) -> dict[str, str]:
    return {"@value": text, "@language": "zh"}


def _iri(base: str, *parts: str) -> str:
    return base + "/".join(quote(part, safe="") for part in parts)


def _concepts(base: str, classification: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The four levels as SKOS concepts, each narrower than the one before."""
    concepts, path, broader = [], [], None
    for level in LEVELS:
        value = classification[level]
        path.append(value["code"])
        concept: dict[str, Any] = {
            "@id": _iri(base, "theme", "-".join(path)),
            "@type": "skos:Concept",
            "skos:notation": "".join(path),
            "skos:prefLabel": _zh(value["name"]),
            "skos:inScheme": {"@id": _iri(base, "themes")},
            "rdfs:comment": _zh(f"信息资源分类 {LEVEL_NAMES[level]}"),
        }
        if broader is None:
            concept["skos:topConceptOf"] = {"@id": _iri(base, "themes")}
        else:
            concept["skos:broader"] = {"@id": broader}
        concepts.append(concept)
        broader = concept["@id"]
    return concepts


def _column(item: Mapping[str, Any]) -> dict[str, Any]:
    column = {
        "@type": "csvw:Column",
        "csvw:name": item["column"],
        "csvw:titles": _zh(item["name"]),
        "csvw:datatype": {"@id": XSD_TYPES.get(item["data_type"], "xsd:string")},
        "dct:description": _zh(item["description"]),
        "cityops:dataTypeCode": item["data_type"],
        "cityops:databaseType": item["database_type"],
        "cityops:grade": item["grade"],
        "cityops:gradeReason": _zh(item["grade_reason"]),
    }
    if item["length"] is not None:
        column["cityops:length"] = item["length"]
    return column


def _dataset(resource: Mapping[str, Any], base: str, publisher: str) -> dict[str, Any]:
    share, opening = resource["share"], resource["open"]
    iri = _iri(base, "dataset", *resource["code"].split("/"))
    themes = _concepts(base, resource["classification"])
    dataset: dict[str, Any] = {
        "@id": iri,
        "@type": "dcat:Dataset",
        "dct:identifier": resource["code"],
        "dct:title": _zh(resource["name"]),
        "dct:description": _zh(resource["abstract"]),
        "dct:publisher": {"@id": publisher},
        "dcat:theme": [{"@id": concept["@id"]} for concept in themes],
        "dcat:keyword": [_zh(keyword) for keyword in resource["keywords"]],
        "dct:accrualPeriodicity": {"@id": FREQUENCY_NAL + FREQUENCIES[resource["update_cycle"]]},
        "dct:accessRights": {"@id": ACCESS_RIGHT_NAL + ACCESS_RIGHTS[opening["type"]]},
        "dct:issued": {"@value": resource["published_date"], "@type": "xsd:date"},
        "dct:relation": [
            {"@id": _iri(base, "dataset", *code.split("/"))} for code in resource["related_codes"]
        ],
        "dct:conformsTo": {
            "@id": iri + "/schema",
            "@type": ["csvw:Schema", "dct:Standard"],
            "dct:title": _zh(f"{resource['name']} 信息项"),
            "csvw:column": {"@list": [_column(item) for item in resource["items"]]},
        },
        "cityops:table": resource["table"],
        "cityops:shareType": _zh(share["type"]),
        "cityops:grade": resource["grade"],
        "cityops:gradeReason": _zh(resource["grade_reason"]),
        "cityops:personalInformation": _zh(resource["personal_information"]),
    }
    rights = []
    if share["condition"]:
        dataset["cityops:shareCondition"] = _zh(share["condition"])
        rights.append(f"共享条件：{share['condition']}")
    if opening["condition"]:
        dataset["cityops:openCondition"] = _zh(opening["condition"])
        rights.append(f"开放条件：{opening['condition']}")
    if rights:
        dataset["dct:rights"] = {
            "@type": "dct:RightsStatement",
            "rdfs:label": _zh("；".join(rights)),
        }
    if share["method_class"]:
        dataset["cityops:shareMethodClass"] = _zh(share["method_class"])
    if share["method_type"]:
        dataset["cityops:shareMethodType"] = _zh(share["method_type"])
    if share["type"] != "不予共享" and share["method_class"] == "共享平台方式":
        dataset["dcat:distribution"] = {
            "@id": iri + "/distribution",
            "@type": "dcat:Distribution",
            "dct:title": _zh(f"{resource['table']}（服务快照，{share['method_type']}方式）"),
            "dct:format": _zh(f"{resource['format']['class']}/{resource['format']['type']}"),
            "dcat:accessService": {"@id": _iri(base, "service", "serving-snapshot")},
        }
    return {"dataset": dataset, "themes": themes}


def to_jsonld(document: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-LD graph of an (already filtered) catalogue document."""
    head = document["catalogue"]
    base = head["base_iri"] if head["base_iri"].endswith("/") else head["base_iri"] + "/"
    publisher = _iri(base, "agent", head["publisher_code"] or head["publisher"])
    agents: dict[str, dict[str, Any]] = {
        publisher: {
            "@id": publisher,
            "@type": "foaf:Agent",
            "foaf:name": _zh(head["publisher"]),
            "dct:identifier": head["publisher_code"],
        }
    }
    datasets, concepts = [], {}
    for resource in document["resources"]:
        agent = _iri(base, "agent", resource["provider_code"] or resource["provider"])
        agents.setdefault(
            agent,
            {
                "@id": agent,
                "@type": "foaf:Agent",
                "foaf:name": _zh(resource["provider"]),
                "dct:identifier": resource["provider_code"],
            },
        )
        built = _dataset(resource, base, agent)
        datasets.append(built["dataset"])
        for concept in built["themes"]:
            concepts.setdefault(concept["@id"], concept)
    scheme = {
        "@id": _iri(base, "themes"),
        "@type": "skos:ConceptScheme",
        "dct:title": _zh("信息资源分类（类/项/目/细目）"),
    }
    service = {
        "@id": _iri(base, "service", "serving-snapshot"),
        "@type": "dcat:DataService",
        "dct:title": _zh("城运主题数据库服务快照（DuckDB，只读）"),
        "dct:description": _zh(
            "每次检查通过的构建后原子切换发布的只读数据库文件 serving/current.duckdb"
        ),
    }
    catalog = {
        "@id": base.rstrip("/"),
        "@type": "dcat:Catalog",
        "dct:title": [_zh(head["title"]), {"@value": head["title_en"], "@language": "en"}],
        "dct:publisher": {"@id": publisher},
        "dcat:themeTaxonomy": {"@id": scheme["@id"]},
        "dcat:dataset": [{"@id": dataset["@id"]} for dataset in datasets],
        "dcat:service": {"@id": service["@id"]},
        "cityops:maxGrade": head["max_grade"],
    }
    if head.get("published_date"):
        issued = {"@value": head["published_date"], "@type": "xsd:date"}
        catalog["dct:issued"] = issued
        catalog["dct:modified"] = issued
    if head["data_as_of"]:
        # 数据截至 (YYYY-MM-DD HH:MM, Beijing time): the end of the period the data covers.
        end = head["data_as_of"].replace(" ", "T") + ":00+08:00"
        catalog["dct:temporal"] = {
            "@type": "dct:PeriodOfTime",
            "dcat:endDate": {"@value": end, "@type": "xsd:dateTime"},
        }
    return {
        "@context": _context(head["namespace"]),
        "@graph": [catalog, scheme, service, *agents.values(), *concepts.values(), *datasets],
    }


def write_dcat(document: Mapping[str, Any], path: Path) -> Path:
    """Write the JSON-LD file atomically."""
    text = json.dumps(to_jsonld(document), ensure_ascii=False, indent=2) + "\n"
    return files.write_text(path, text)
