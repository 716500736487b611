{#-
    The lake is partitioned by delivery day (`dt`, Beijing time). A day's build passes
    `--vars '{min_dt: 2024-07-03, max_dt: 2024-07-03}'`; incremental models then look only at
    what those deliveries changed. With no vars every delivery day is in the window.
-#}

{#- True for a delivery day inside the build window. -#}
{% macro in_delivery_window(column) -%}
    {%- set min_dt = var('min_dt', none) -%}
    {%- set max_dt = var('max_dt', none) -%}
    {%- if min_dt is none and max_dt is none -%}
        true
    {%- else -%}
        {{ column }} between
            cast('{{ min_dt or max_dt }}' as date) and cast('{{ max_dt or min_dt }}' as date)
    {%- endif -%}
{%- endmacro %}

{#- True for a row whose newest delivery is at or after the window's first day: what an
    upstream incremental model may have rewritten in this build. -#}
{% macro touched_by_window(column) -%}
    {%- set min_dt = var('min_dt', none) -%}
    {%- if min_dt is none -%}
        true
    {%- else -%}
        {{ column }} >= cast('{{ min_dt }}' as date)
    {%- endif -%}
{%- endmacro %}
