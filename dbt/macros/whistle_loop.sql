{#- The measures of the 数字吹哨 loop per period (`grain`: 'day' or 'month' of the opening),
    street and responsible unit, from the CTE `fct_whistle_orders`: counts of each stage met,
    and the median time to each stage. Rates are sum(numerator) / sum(denominator) of the
    counts; medians are not additive, hence one model per grain (kpi_whistle_loop_daily,
    kpi_whistle_loop_monthly). -#}
{% macro whistle_loop_measures(grain) -%}
    select
        cast(date_trunc('{{ grain }}', opened_at) as date) as period_start,
        street_code,
        any_value(street_name) as street_name,
        responsible_unit_code,
        any_value(responsible_unit_name) as responsible_unit_name,
        count(*) as orders,
        count(received_at) as received_orders,
        count(*) filter (where is_received_on_time) as received_on_time_orders,
        count(handled_at) as handled_orders,
        count(*) filter (where is_handled_on_time) as handled_on_time_orders,
        count(verified_at) as verified_orders,
        count(*) filter (where is_verified_first_time) as verified_first_time_orders,
        count(*) filter (where return_count > 0) as returned_orders,
        count(*) filter (where is_escalated) as escalated_orders,
        count(*) filter (where is_reopened) as reopened_orders,
        count(*) filter (where is_open) as open_orders,
        round(count(*) filter (where is_received_on_time) / count(*), 4) as received_on_time_rate,
        round(count(*) filter (where is_handled_on_time) / count(*), 4) as handled_on_time_rate,
        round(
            count(*) filter (where is_verified_first_time) / nullif(count(verified_at), 0), 4
        ) as verified_first_time_rate,
        median(minutes_to_receive) as median_minutes_to_receive,
        median(handling_hours) as median_handling_hours,
        median(hours_to_verify) as median_hours_to_verify,
        max(as_of_at) as as_of_at
    from fct_whistle_orders
    group by all
{%- endmacro %}
