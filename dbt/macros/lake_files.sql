{#-
    Sources over lake files that may not exist yet. The quality results store
    (lake/quality/check_results) is written after the first Dagster run, so the first build
    of a fresh home finds no file, and DuckDB's read_parquet fails on a glob that matches
    nothing. A source table that declares its glob in `meta.files` (and uses `{files}` or
    `$files` in its `external_location`) and a `data_type` for every column is read through
    `from_lake_files(source(…))`: when no file matches, the model selects an empty relation
    of the declared types instead. The glob is checked when the model runs, not at parse.
-#}

{#- A select of every row of an external source, or no row when none of its files exist. -#}
{% macro from_lake_files(relation) -%}
{%- set node = lake_source_node(relation) if execute else none -%}
{%- if node is not none and not lake_files_exist(node.meta.files) -%}
select
{%- for column in node.columns.values() %}
    cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ "," if not loop.last }}
{%- endfor %}
where false
{%- else -%}
select * from {{ relation }}
{%- endif -%}
{%- endmacro %}

{#- The source node of a relation rendered from source(): same schema and table name. -#}
{% macro lake_source_node(relation) -%}
{%- for node in graph.sources.values() -%}
{%- if node.schema == relation.schema and node.identifier == relation.identifier -%}
{{ return(node) }}
{%- endif -%}
{%- endfor -%}
{{ exceptions.raise_compiler_error("from_lake_files: no source for " ~ relation) }}
{%- endmacro %}

{#- True when at least one file matches the glob (DuckDB's glob() lists them). -#}
{% macro lake_files_exist(files) -%}
{%- if not files -%}
{{ exceptions.raise_compiler_error("from_lake_files: the source declares no meta.files") }}
{%- endif -%}
{%- set found = run_query("select count(*) from glob('" ~ files | replace("'", "''") ~ "')") -%}
{{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}
