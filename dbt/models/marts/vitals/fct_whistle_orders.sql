{#-
    数字吹哨工单: a work order for every warning that reaches 橙 or 红 at the indicator's
    finest area level (grid where the indicator has grids, otherwise street; district-wide
    warnings do not whistle). It is routed through the 派单字典 rule in force on the day it
    opens (responsible unit; time limit in hours for the level it opened at), sent to the
    disposal system (vitals/dispatch.py), and follows that system's feedback
    (stg_disposal__whistle_feedback). One row per order.

    The order opens when the data showed the level (`known_at` of the escalation: the alarm
    or report that brought a count to its threshold, else the end of the period), so a storm
    at 15:00 opens its order at about 15:00, not at midnight, and an hourly alarm at 01:07 at
    01:07. It must be received (签收) within the level's limit (seed whistle_receive_limits)
    and is due `red_limit_hours` or `orange_limit_hours` later (派单字典); a rule without hour
    limits falls back to its working days.

    Lifecycle: 待签收 → 处置中 (received; again after a failed verification) → 待核查 (the
    unit reported it handled) → 已办结 / 超期办结 (verified, 核查通过: the only closure; late
    when the report verified came after the due time); 已退单
    while a return waits for the next unit. An order is escalated (升级督办) at the first
    stage deadline it misses: not received by its receive limit, not reported handled by its
    due time. A new order of the same indicator and area within the level's re-open window
    after verification re-opens it (已重开; the new order carries the work). The indicator
    returning to normal (the end of the warning's last period in alarm) is recorded as
    `indicator_recovered_at`; it closes nothing. Status as of the data's last period
    (`as_of_at`).
-#}
with

fct_warning_escalations as (

    select * from {{ ref('fct_warning_escalations') }}

),

fct_warning_events as (

    select * from {{ ref('fct_warning_events') }}

),

dispatch_rules as (

    select * from {{ ref('dispatch_rules') }}

),

dim_departments as (

    select * from {{ ref('dim_departments') }}

),

dim_streets as (

    select * from {{ ref('dim_streets') }}

),

whistle_receive_limits as (

    select * from {{ ref('whistle_receive_limits') }}

),

stg_disposal__whistle_feedback as (

    select * from {{ ref('stg_disposal__whistle_feedback') }}

),

feedback as (

    -- Each event as its newest delivery states it (a re-sent day replaces the day).
    select
        *,
        case event_type
            when '签收' then 1
            when '退单' then 2
            when '处置中' then 3
            when '反馈' then 4
            when '核查不通过' then 5
            when '核查通过' then 6
        end as stage_rank
    from stg_disposal__whistle_feedback
    qualify row_number() over (partition by feedback_id order by delivery_date desc) = 1

),

stages as (

    select
        whistle_order_id,
        min(event_at) filter (where event_type = '签收') as received_at,
        max(event_at) filter (where event_type = '签收') as last_received_at,
        arg_max(unit_code, event_at) filter (where event_type = '签收') as handling_unit_code,
        arg_max(unit_name, event_at) filter (where event_type = '签收') as handling_unit_name,
        count(*) filter (where event_type = '退单') as return_count,
        arg_max(return_reason, event_at) filter (where event_type = '退单') as last_return_reason,
        min(event_at) filter (where event_type = '反馈') as handled_at,
        max(event_at) filter (where event_type = '反馈') as last_handled_at,
        arg_max(note, event_at) filter (where event_type = '反馈') as handling_note,
        count(*) filter (where event_type = '核查不通过') as failed_verification_count,
        min(event_at) filter (where event_type = '核查通过') as verified_at,
        -- Events of one minute in the order a unit takes them.
        arg_max(event_type, epoch_us(event_at) * 10 + stage_rank) as last_event_type,
        max(event_at) as last_event_at,
        count(*) as feedback_event_count
    from feedback
    group by whistle_order_id

),

whistles as (

    -- The first 橙 or 红 step of each warning at the finest level opens the order.
    select *
    from fct_warning_escalations
    where
        level >= 3
        and area_level = finest_area_level
        and area_level in ('street', 'grid')
        and whistle_matter_code is not null
    qualify row_number() over (partition by warning_id order by reached_at, level) = 1

),

routed as (

    select
        whistles.*,
        dispatch_rules.rule_id as dispatch_rule_id,
        dispatch_rules.matter_name,
        dispatch_rules.dispatch_level,
        dispatch_rules.time_limit_workdays,
        case whistles.level
            when 4 then dispatch_rules.red_limit_hours
            else dispatch_rules.orange_limit_hours
        end as time_limit_hours,
        dispatch_rules.co_unit_codes,
        {{ dispatch_unit_code('dispatch_rules.primary_unit_code', 'whistles.street_code') }}
            as responsible_unit_code
    from whistles
    left join dispatch_rules
        on {{ dispatch_rule_in_force('dispatch_rules', 'whistles.whistle_matter_code', 'whistles.known_at') }}

),

routed_orders as (

    select
        'CS' || strftime(routed.known_at, '%Y%m%d%H') || '-' || substr(md5(routed.warning_id), 1, 8)
            as whistle_order_id,
        routed.warning_id,
        routed.indicator_code,
        routed.indicator_name,
        routed.dimension,
        routed.dimension_name,
        routed.area_level,
        routed.area_code,
        routed.area_name,
        routed.street_code,
        dim_streets.street_name,
        routed.grid_code,
        routed.subject_code,
        routed.known_at as opened_at,
        routed.level as opened_level,
        events.peak_level,
        events.peak_level_name,
        routed.value as opened_value,
        routed.detail,
        routed.whistle_matter_code as matter_code,
        routed.matter_name,
        routed.dispatch_rule_id,
        routed.dispatch_level,
        routed.responsible_unit_code,
        coalesce(dim_departments.department_name, dim_streets.street_name || '办事处') as responsible_unit_name,
        routed.co_unit_codes,
        routed.time_limit_workdays,
        routed.time_limit_hours,
        coalesce(
            routed.known_at + to_hours(routed.time_limit_hours),
            {{ add_working_days('routed.known_at', 'routed.time_limit_workdays') }}
        ) as due_at,
        case when events.closed_at is not null then events.last_alarm_at end
            as indicator_recovered_at,
        events.as_of_at

    from routed
    inner join fct_warning_events as events
        on routed.warning_id = events.warning_id
    left join dim_departments
        on routed.responsible_unit_code = dim_departments.department_code
    left join dim_streets
        on routed.street_code = dim_streets.street_code

),

lifecycle as (

    select
        routed_orders.*,
        routed_orders.opened_at + to_minutes(limits.receive_limit_minutes) as receive_due_at,
        limits.reopen_window_hours,
        stages.received_at,
        stages.handling_unit_code,
        stages.handling_unit_name,
        coalesce(stages.return_count, 0) as return_count,
        stages.last_return_reason,
        stages.handled_at,
        stages.last_handled_at,
        stages.handling_note,
        coalesce(stages.failed_verification_count, 0) as failed_verification_count,
        stages.verified_at,
        stages.last_event_type,
        stages.last_event_at,
        coalesce(stages.feedback_event_count, 0) as feedback_event_count,
        -- The next order of the same indicator and area.
        lead(routed_orders.whistle_order_id) over next_order as next_order_id,
        lead(routed_orders.opened_at) over next_order as next_opened_at

    from routed_orders
    left join whistle_receive_limits as limits
        on routed_orders.opened_level = limits.level
    left join stages
        on routed_orders.whistle_order_id = stages.whistle_order_id
    window next_order as (
        partition by routed_orders.indicator_code, routed_orders.area_code
        order by routed_orders.opened_at, routed_orders.whistle_order_id
    )

),

deadlines as (

    select
        *,
        -- A stage deadline missed by the data's as-of time escalates the order.
        receive_due_at <= as_of_at and coalesce(received_at > receive_due_at, true)
            as is_receipt_overdue,
        due_at <= as_of_at and coalesce(handled_at > due_at, true) as is_handling_overdue,
        case
            when
                verified_at is not null
                and next_opened_at > verified_at
                and next_opened_at <= verified_at + to_hours(reopen_window_hours)
                then next_order_id
        end as reopened_by_order_id

    from lifecycle

),

final as (

    select
        * exclude (next_order_id, next_opened_at, reopen_window_hours),
        case
            when reopened_by_order_id is not null then '已重开'
            -- Like a 12345 order's 办结, timeliness is the unit's: its last report, verified.
            when verified_at is not null and last_handled_at > due_at then '超期办结'
            when verified_at is not null then '已办结'
            when received_at is null then '待签收'
            when last_event_type = '退单' then '已退单'
            when last_event_type = '反馈' then '待核查'
            else '处置中'
        end as status,
        verified_at as closed_at,
        verified_at is null as is_open,
        -- Late when the unit's report that stands (handled, or verified) came after the due
        -- time, or, with none standing, when the due time has passed.
        coalesce(
            case when last_event_type in ('反馈', '核查通过') then last_handled_at end, as_of_at
        ) > due_at as is_overdue,
        is_receipt_overdue or is_handling_overdue as is_escalated,
        case
            when is_receipt_overdue and is_handling_overdue then least(receive_due_at, due_at)
            when is_receipt_overdue then receive_due_at
            when is_handling_overdue then due_at
        end as escalated_at,
        case
            when is_receipt_overdue and is_handling_overdue then '超时未签收、超时未办结'
            when is_receipt_overdue then '超时未签收'
            when is_handling_overdue then '超时未办结'
        end as escalation_reason,
        received_at <= receive_due_at as is_received_on_time,
        handled_at <= due_at as is_handled_on_time,
        verified_at is not null and failed_verification_count = 0 as is_verified_first_time,
        failed_verification_count > 0 or reopened_by_order_id is not null as is_reopened,
        case when reopened_by_order_id is not null then next_opened_at end as reopened_at,
        round(epoch(received_at - opened_at) / 60, 1) as minutes_to_receive,
        round(epoch(handled_at - opened_at) / 3600, 1) as handling_hours,
        round(epoch(verified_at - opened_at) / 3600, 1) as hours_to_verify

    from deadlines

)

select * from final
