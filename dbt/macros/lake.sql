{#-
    The lake is partitioned by delivery day (`dt`, Beijing time). A day's build gives the window
    as `--vars '{min_dt: 2024-07-03, max_dt: 2024-07-03}'` or, as Dagster does, in the
    environment (`CITYOPS_MIN_DT`, `CITYOPS_MAX_DT`); incremental models then look only at what
    those deliveries changed. With neither, every delivery day is in the window.
-#}

{#- A bound of the build window (`min_dt` or `max_dt`), an ISO date string, or none.
    The var wins; else the environment, read only when executing. Changed vars make dbt re-parse
    the whole project (≈ 5 s an invocation, every daily run); an environment variable that
    parsing never read does not (docs/decisions.md). Schema files cannot call this macro
    (test configs render in a context without project macros): they inline
    `var('min_dt', none) or env_var('CITYOPS_MIN_DT', '')`. -#}
{% macro window_bound(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none and execute -%}
        {%- set value = env_var('CITYOPS_' ~ (name | upper), '') or none -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- True for a delivery day inside the build window. -#}
{% macro in_delivery_window(column) -%}
    {%- set min_dt = window_bound('min_dt') -%}
    {%- set max_dt = window_bound('max_dt') -%}
    {%- if min_dt is none and max_dt is none -%}
        true
    {%- else -%}
        {{ column }} between
            cast('{{ min_dt or max_dt }}' as date) and cast('{{ max_dt or min_dt }}' as date)
    {%- endif -%}
{%- endmacro %}

{#- The live path (live/) measures periods up to the newest data only: `CITYOPS_PERIODS_UNTIL`,
    an ISO timestamp read when executing, is the latest period end kept (the end of the hour
    the newest reading falls in). Unset, as in every daily build, all periods of the delivery
    days are kept. Without it a live run would see the rest of today as hours without alarms
    and close warnings in hours that have not happened. -#}
{% macro periods_until(column) -%}
    {%- set until = env_var('CITYOPS_PERIODS_UNTIL', '') if execute else '' -%}
    {%- if until -%}
        {{ column }} <= cast('{{ until }}' as timestamp)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
