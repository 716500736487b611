{#-
    The unified event fact: 12345 orders, grid cases and device alarms on one grain, with a
    common lifecycle (发现/受理 → 派遣 → 处置 → 结案), place keys and matter classification.

    Incremental (strategy `delivery_window`, slice key event_id). An order's or a case's
    event is a copy of its fact row, with the same delivery span: a build takes the facts
    whose span overlaps the window and the facts of the events in the table's slice (what the
    window's deliveries carried before, and every open event: the overdue flag moves with the
    data cut-off); an event whose fact is gone is deleted. Alarm events follow
    fct_device_alarms, which is re-derived whole on every build, and so are they.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delivery_window',
        unique_key='event_id',
        always_rebuilt="event_source = '物联告警' or not is_closed or (deadline_at is not null and disposed_at is null)",
    )
}}

with

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

fct_grid_cases as (

    select * from {{ ref('fct_grid_cases') }}

),

fct_device_alarms as (

    select * from {{ ref('fct_device_alarms') }}

),

{% if is_incremental() %}
    in_slice as (

        {{ window_slice('event_source, source_event_id') }}

    ),
{% endif %}

hotline_events as (

    select
        'hotline|' || order_id as event_id,
        '12345热线' as event_source,
        order_id as source_event_id,
        request_type as event_type,
        matter_code,
        matter_category,
        matter_subcategory as matter_name,
        street_code,
        grid_code,
        accepted_at as reported_at,
        dispatched_at,
        replied_at as disposed_at,
        closed_at,
        deadline_at,
        lifecycle_stage,
        is_overdue,
        is_closed,
        handling_unit_code as responsible_unit_code,
        cast(null as varchar) as severity,
        first_delivery_date,
        last_delivery_date

    from fct_hotline_orders
    {% if is_incremental() %}
        where
            {{ delivery_span_in_window('first_delivery_date', 'last_delivery_date') }}
            or order_id in (
                select in_slice.source_event_id from in_slice
                where in_slice.event_source = '12345热线'
            )
    {% endif %}

),

grid_events as (

    select
        'grid|' || case_id as event_id,
        '网格案件' as event_source,
        case_id as source_event_id,
        case_type as event_type,
        classification_code as matter_code,
        category_name as matter_category,
        subcategory_name as matter_name,
        street_code,
        grid_code,
        discovered_at as reported_at,
        dispatched_at,
        disposed_at,
        closed_at,
        deadline_at,
        lifecycle_stage,
        is_overdue,
        is_closed,
        responsible_unit_code,
        cast(null as varchar) as severity,
        first_delivery_date,
        last_delivery_date

    from fct_grid_cases
    {% if is_incremental() %}
        where
            {{ delivery_span_in_window('first_delivery_date', 'last_delivery_date') }}
            or case_id in (
                select in_slice.source_event_id from in_slice
                where in_slice.event_source = '网格案件'
            )
    {% endif %}

),

alarm_events as (

    select
        'alarm|' || alarm_id as event_id,
        '物联告警' as event_source,
        alarm_id as source_event_id,
        '告警' as event_type,
        metric as matter_code,
        device_type as matter_category,
        alarm_name as matter_name,
        street_code,
        grid_code,
        alarm_at as reported_at,
        cast(null as timestamp) as dispatched_at,
        cast(null as timestamp) as disposed_at,
        cast(null as timestamp) as closed_at,
        cast(null as timestamp) as deadline_at,
        '发现' as lifecycle_stage,
        cast(null as boolean) as is_overdue,
        false as is_closed,
        cast(null as varchar) as responsible_unit_code,
        alarm_severity as severity,
        first_delivery_date,
        last_delivery_date

    from fct_device_alarms

),

unioned as (

    select * from hotline_events
    union all
    select * from grid_events
    union all
    select * from alarm_events

),

final as (

    select
        event_id,
        event_source,
        source_event_id,
        event_type,
        matter_code,
        matter_category,
        matter_name,
        street_code,
        grid_code,
        reported_at,
        cast(reported_at as date) as reported_date,
        dispatched_at,
        disposed_at,
        closed_at,
        deadline_at,
        lifecycle_stage,
        is_overdue,
        is_closed,
        responsible_unit_code,
        severity,
        first_delivery_date,
        last_delivery_date

    from unioned

)

select * from final
