{#-
    12345 KPIs by day, street and unit. Each KPI keeps its numerator and denominator so any
    roll-up (a street's month, a department's week) is sum(numerator) / sum(denominator),
    never an average of rates.
-#}
with

int_hotline_kpi_measures as (

    select * from {{ ref('int_hotline_kpi_measures') }}

),

{%- set kpis = [
    ('timely_sign_rate', 'signed_on_time_orders', 'sign_decided_orders'),
    ('first_contact_rate', 'contacted_on_time_orders', 'contact_decided_orders'),
    ('on_time_reply_rate', 'replied_on_time_orders', 'due_orders'),
    ('actual_resolution_rate', 'resolved_at_callback_orders', 'resolution_answered_orders'),
    ('satisfaction_rate', 'satisfied_orders', 'callback_orders'),
    ('repeat_order_rate', 'repeat_orders', 'accepted_orders'),
    ('return_rate', 'returned_orders', 'dispatched_orders'),
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
        cast(coalesce(sum(denominator) filter (where kpi_code = 'avg_handling_working_hours'), 0) as integer)
            as replied_orders,
        coalesce(sum(numerator) filter (where kpi_code = 'avg_handling_working_hours'), 0)
            as handling_working_hours_total

    from int_hotline_kpi_measures
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
        replied_orders,
        handling_working_hours_total,
        round(handling_working_hours_total / nullif(replied_orders, 0), 2)
            as avg_handling_working_hours

    from aggregated

)

select * from final
