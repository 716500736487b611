{#-
    The unified event fact: 12345 orders, grid cases and device alarms on one grain, with a
    common lifecycle (发现/受理 → 派遣 → 处置 → 结案), place keys and matter classification.

    An order's or a case's event is a copy of its fact row. An alarm's event is open (发现)
    until the device reports normal again (`normal_at` of fct_device_alarms) or the 吹哨
    order raised for it is verified (核查通过, `verified_at` of fct_whistle_orders), and
    closes (结案) at the earlier of the two; `closed_by` says which. The order raised for an
    alarm is the order of a warning the alarm is part of: a warning of an hourly indicator
    that counts the alarm's metric (`alarm_indicators` below, as int_vital_signs__safety and
    __utilities count them), in the alarm's grid (or street, for an indicator whistling by
    street), whose periods hold the alarm's hour (opened_at ≤ hour < closed_at, or still
    open); an order verified before the alarm is not its order. Of several, the one verified
    first, else the first opened.

    A table, rebuilt whole after the vital signs. The orders come from warnings that the
    alarms raise (fct_device_alarms → fct_indicator_values → fct_warning_events →
    fct_whistle_orders), built after the incremental facts; an incremental model here would
    be built with those facts (Dagster's daily step), both upstream and downstream of the
    vital signs (docs/decisions.md, "dbt runs as three Dagster steps").
-#}
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

fct_whistle_orders as (

    select * from {{ ref('fct_whistle_orders') }}

),

fct_warning_events as (

    select * from {{ ref('fct_warning_events') }}

),

alarm_indicators as (

    -- The hourly indicators that count each alarm metric (elevator_fault: none).
    select
        indicators.metric,
        indicators.indicator_code
    from (
        values
        ('overcurrent_alarm', 'SAF_EBIKE_ALARMS'),
        ('smoke_alarm', 'SAF_SMOKE_ALARMS'),
        ('smoke_alarm', 'SAF_FIRE_CONFIRMED'),
        ('elevator_entrapment', 'SAF_ELEVATOR_TRAPPED'),
        ('gas_alarm', 'SAF_GAS_ALARM'),
        ('ponding_depth_cm', 'UTI_PONDING_DEPTH')
    ) as indicators (metric, indicator_code)

),

alarm_orders as (

    -- Per alarm, the order raised for it: verified first, else opened first.
    select
        fct_device_alarms.alarm_id,
        fct_whistle_orders.whistle_order_id,
        fct_whistle_orders.verified_at

    from fct_device_alarms
    inner join alarm_indicators
        on fct_device_alarms.metric = alarm_indicators.metric
    inner join fct_whistle_orders
        on
            alarm_indicators.indicator_code = fct_whistle_orders.indicator_code
            and case fct_whistle_orders.area_level
                when 'grid' then fct_device_alarms.grid_code
                when 'street' then fct_device_alarms.street_code
            end = fct_whistle_orders.area_code
    inner join fct_warning_events
        on fct_whistle_orders.warning_id = fct_warning_events.warning_id
    where
        fct_device_alarms.hour_at >= fct_warning_events.opened_at
        and coalesce(fct_device_alarms.hour_at < fct_warning_events.closed_at, true)
        and coalesce(fct_whistle_orders.verified_at >= fct_device_alarms.alarm_at, true)
    qualify
        row_number() over (
            partition by fct_device_alarms.alarm_id
            order by
                fct_whistle_orders.verified_at asc nulls last,
                fct_whistle_orders.opened_at asc,
                fct_whistle_orders.whistle_order_id asc
        ) = 1

),

alarm_closures as (

    select
        fct_device_alarms.*,
        alarm_orders.whistle_order_id,
        case
            when fct_device_alarms.normal_at <= coalesce(alarm_orders.verified_at, fct_device_alarms.normal_at)
                then '设备恢复正常'
            when alarm_orders.verified_at is not null then '工单核查通过'
        end as closed_by,
        least(fct_device_alarms.normal_at, alarm_orders.verified_at) as closed_at

    from fct_device_alarms
    left join alarm_orders
        on fct_device_alarms.alarm_id = alarm_orders.alarm_id

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
        cast(null as varchar) as closed_by,
        handling_unit_code as responsible_unit_code,
        cast(null as varchar) as severity,
        cast(null as varchar) as whistle_order_id,
        first_delivery_date,
        last_delivery_date

    from fct_hotline_orders

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
        cast(null as varchar) as closed_by,
        responsible_unit_code,
        cast(null as varchar) as severity,
        cast(null as varchar) as whistle_order_id,
        first_delivery_date,
        last_delivery_date

    from fct_grid_cases

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
        closed_at,
        cast(null as timestamp) as deadline_at,
        case when closed_at is not null then '结案' else '发现' end as lifecycle_stage,
        cast(null as boolean) as is_overdue,
        closed_at is not null as is_closed,
        closed_by,
        cast(null as varchar) as responsible_unit_code,
        alarm_severity as severity,
        whistle_order_id,
        first_delivery_date,
        last_delivery_date

    from alarm_closures

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
        closed_by,
        responsible_unit_code,
        severity,
        whistle_order_id,
        first_delivery_date,
        last_delivery_date

    from unioned

)

select * from final
