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

{#- The live path (live/) bounds the periods it measures with timestamps in the environment,
    read when executing; unset, as in every daily build, a bound is `true`. -#}
{% macro live_bound(variable, column, operator, hours_before=0) -%}
    {%- set bound = env_var(variable, '') if execute else '' -%}
    {%- if bound -%}
        {{ column }} {{ operator }} cast('{{ bound }}' as timestamp) - to_hours({{ hours_before }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- `CITYOPS_PERIODS_UNTIL`: the latest period end kept (the end of the hour the newest
    reading falls in). Without it a live run would see the rest of today as hours without
    alarms and close warnings in hours that have not happened. -#}
{% macro periods_until(column) -%}
    {{ live_bound('CITYOPS_PERIODS_UNTIL', column, '<=') }}
{%- endmacro %}

{#- `CITYOPS_PERIODS_FROM`: the first period measured, so a live cycle costs the same with 90
    or 365 days behind it: the first live day less the warm-up its baselines need
    (live/engine.py). A model whose inputs reach further back than the warm-up (the traffic
    free-flow speed: 28 days) asks for `hours_before`; every other look-back of a live
    indicator must fit in the warm-up. -#}
{% macro periods_from(column, hours_before=0) -%}
    {{ live_bound('CITYOPS_PERIODS_FROM', column, '>=', hours_before) }}
{%- endmacro %}

{#- `CITYOPS_WARNINGS_FROM`: the first period whose warning state is evaluated, the start of
    the first live day or, earlier, of a warning still open then, so that no series is in
    warning just before it and the hysteresis starts from rest (int_warning_states). The
    periods between the two bounds are the baselines' warm-up. -#}
{% macro warnings_from(column) -%}
    {{ live_bound('CITYOPS_WARNINGS_FROM', column, '>=') }}
{%- endmacro %}

{#- `CITYOPS_HOURS_FROM`: the first hour a live run recomputes in the tables that aggregate
    readings by hour (config `hours_from` names the hour column): the hour of the oldest
    reading landed since the previous run. Earlier hours keep what earlier runs wrote, so a
    cycle's cost follows its batch, not the day so far. -#}
{% macro hours_from(column) -%}
    {{ live_bound('CITYOPS_HOURS_FROM', column, '>=') }}
{%- endmacro %}
