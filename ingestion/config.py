"""Typed configuration files: their shape is a pydantic model, and every problem is named.

The indicator registry (``vitals/indicators.yml``), ``notify.yml``, the catalogue
(``catalog/catalogue.yml``, ``catalog/codes.yml``) and the dashboards spec
(``dashboards/spec/*.yml``) are each declared as pydantic models in strict mode: a number
is a number (never the text "35" or ``true``), a level or a kind is one of a list, an unknown
key is an error. :func:`problems` turns a validation error into one plain line per problem,
each with the path of the bad field and, where the model says it, what is allowed.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator

Location = tuple[str | int, ...]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty")
    return value


# Text that is not empty or blank, kept as written.
NonBlank = Annotated[str, AfterValidator(_not_blank)]


class Strict(BaseModel):
    """A part of a configuration file: strict types and no unknown keys."""

    model_config = ConfigDict(strict=True, extra="forbid")


class NullMeansDefault(Strict):
    """A part where a key written with nothing after it (YAML null) keeps its default."""

    @model_validator(mode="before")
    @classmethod
    def _null_means_default(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


# What a pydantic error type says about a value, in the words the configuration files use.
_TYPE_WORDS = {
    "float_type": "is not a number",
    "float_parsing": "is not a number",
    "int_type": "is not an integer",
    "int_parsing": "is not an integer",
    "int_from_float": "is not an integer",
    "string_type": "is not text",
    "bool_type": "is not true or false",
    "list_type": "is not a list",
    "tuple_type": "is not a list",
    "dict_type": "is not a mapping",
    "model_type": "is not a mapping",
    "model_attributes_type": "is not a mapping",
}


def message(error: Any) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) in plain words."""
    kind = error["type"]
    context = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "is missing"
    if kind == "literal_error":
        return f"{value!r} is not one of {context['expected']}"
    if kind in ("value_error", "assertion_error") and "error" in context:
        return str(context["error"])  # a model's own check, in its own words
    if kind == "string_too_short" and context.get("min_length") == 1:
        return "is empty"
    if kind == "too_short" and context.get("min_length") == 1:
        return "must not be empty"
    if kind in _TYPE_WORDS:
        return f"{value!r} {_TYPE_WORDS[kind]}"
    return str(error["msg"])


def problems(error: ValidationError) -> list[tuple[Location, str]]:
    """Every problem of a validation error: the field's path and what is wrong with it."""
    return [(tuple(item["loc"]), message(item)) for item in error.errors()]


def dotted(location: Location) -> str:
    """A field's path as ``thresholds.蓝`` (list positions count from 1: ``channels.2``)."""
    return ".".join(str(part + 1) if isinstance(part, int) else part for part in location)


def field_problem(location: Location, text: str) -> str:
    """One problem as ``path: text``, or ``path is …`` when the text starts with a verb.

    A bad mapping key is reported at the key itself (pydantic adds ``[key]`` to its path).
    """
    where = dotted(tuple(part for part in location if part != "[key]")) or "the top level"
    if text.startswith(("is ", "must ")):
        return f"{where} {text}"
    return f"{where}: {text}"
