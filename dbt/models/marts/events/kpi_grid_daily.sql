{#- Grid-case KPIs by day, street and unit, with numerators and denominators (see kpi_hotline_daily). -#}
with

int_grid_kpi_measures as (

    select * from {{ ref('int_grid_kpi_measures') }}

),

{%- set kpis = [
    ('registration_rate', 'registered_cases', 'reported_cases'),
    ('on_time_closure_rate', 'disposed_on_time_cases', 'due_cases'),
    ('rework_rate', 'reworked_cases', 'closed_cases'),
] %}

aggregated as (

    select
        stat_date,
        street_code,
        unit_code,
        {% for kpi, numerator, denominator in kpis %}
            cast(coalesce(sum(numerator) filter (where kpi_code = '{{ kpi }}'), 0) as integer)
                as {{ numerator }},
            cast(coalesce(sum(denominator) filter (where kpi_code = '{{ kpi }}'), 0) as integer)
                as {{ denominator }},
        {% endfor %}
        cast(coalesce(sum(denominator) filter (where kpi_code = 'avg_disposal_hours'), 0) as integer)
            as disposed_cases,
        coalesce(sum(numerator) filter (where kpi_code = 'avg_disposal_hours'), 0)
            as disposal_hours_total

    from int_grid_kpi_measures
    group by stat_date, street_code, unit_code

),

final as (

    select
        stat_date,
        street_code,
        unit_code,
        {% for kpi, numerator, denominator in kpis %}
            {{ numerator }},
            {{ denominator }},
            round({{ numerator }} / nullif({{ denominator }}, 0), 4) as {{ kpi }},
        {% endfor %}
        disposed_cases,
        disposal_hours_total,
        round(disposal_hours_total / nullif(disposed_cases, 0), 2) as avg_disposal_hours

    from aggregated

)

select * from final
