{#- The AQI standard in force for a period starting at `period_start` (seed aqi_standards):
    HJ 633-2026 from the date in CITYOPS_AQI_HJ633_2026_FROM (YYYY-MM-DD, Beijing date of
    the period's start), HJ 633-2012 before it and whenever the variable is unset or empty.
    A value that is not a date stops the build with the variable's name. Read when a model
    is compiled to run (`execute`), not at parse: a changed date needs no re-parse, and
    sqlfluff, which renders without it, lints the default. -#}
{% macro aqi_standard(period_start) -%}
    {%- set applies_from = (env_var('CITYOPS_AQI_HJ633_2026_FROM', '') | trim) if execute else '' -%}
    {%- if applies_from and not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', applies_from) -%}
        {{ exceptions.raise_compiler_error(
            "CITYOPS_AQI_HJ633_2026_FROM=" ~ applies_from
            ~ " is not a date: give YYYY-MM-DD (the first day graded by HJ 633-2026), or leave it unset"
        ) }}
    {%- endif -%}
    {%- if applies_from -%}
        case
            when cast({{ period_start }} as date) >= date '{{ applies_from }}' then 'HJ 633-2026'
            else 'HJ 633-2012'
        end
    {%- else -%}
        'HJ 633-2012'
    {%- endif -%}
{%- endmacro %}
