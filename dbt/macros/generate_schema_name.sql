{#-
    Schema names are exactly the configured ones (`staging`, `restricted`, `events` …), with
    no `<target>_` prefix: the warehouse is one DuckDB file per environment, so the prefix
    would only make every Superset dataset name longer. Models without a schema land in the
    target's default schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
