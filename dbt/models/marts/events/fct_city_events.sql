{#-
    The unified event fact: 12345 orders, grid cases and device alarms on one grain, with a
    common lifecycle (发现/受理 → 派遣 → 处置 → 结案), place keys and matter classification.

    Incremental with unique key event_id: a build takes the events its upstream facts
    rewrote (newest delivery in the window) plus every open order and case (their overdue
    flag moves with the data cut-off). The pre-hook drops alarms a correction withdrew.
-#}
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        pre_hook="
            {% if is_incremental() %}
            delete from {{ this }}
            where
                event_source = '物联告警'
                and source_event_id not in (
                    select alarm_id from {{ ref('fct_device_alarms') }}
                )
            {% endif %}
        ",
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
        last_delivery_date

    from fct_hotline_orders
    {% if is_incremental() %}
        where {{ touched_by_window('last_delivery_date') }} or not is_closed
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
        last_delivery_date

    from fct_grid_cases
    {% if is_incremental() %}
        where {{ touched_by_window('last_delivery_date') }} or not is_closed
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
        last_delivery_date

    from fct_device_alarms
    {% if is_incremental() %}
        where {{ touched_by_window('last_delivery_date') }}
    {% endif %}

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
        last_delivery_date

    from unioned

)

select * from final
