{#-
    数字吹哨工单: a work order for every warning that reaches 橙 or 红 at the indicator's
    finest area level (grid where the indicator has grids, otherwise street; district-wide
    warnings do not whistle). It is routed through the 派单字典 rule in force on the day it
    opens (responsible unit; time limit in hours for the level it opened at). Until the
    disposal system reports back, an order counts as handled when its warning has closed, at
    the end of the warning's last period in alarm (when the indicator was back to normal;
    the warning itself stays open for its hysteresis clear periods). One row per order.

    The order opens when the data showed the level (`known_at` of the escalation: the alarm
    or report that brought a count to its threshold, else the end of the period), so a storm
    at 15:00 opens its order at about 15:00, not at midnight, and an hourly alarm at 01:07 at
    01:07. It is due `red_limit_hours` or `orange_limit_hours` later (派单字典); a rule
    without hour limits falls back to its working days.

    Status as of the data's last period (`as_of_at`): 处置中 (open, within its limit), 已超期
    (open past its deadline), 已办结 (closed in time), 超期办结 (closed late).
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
        case
            when dispatch_rules.primary_unit_code = 'S00' then 'S' || whistles.street_code
            else dispatch_rules.primary_unit_code
        end as responsible_unit_code
    from whistles
    left join dispatch_rules
        on
            whistles.whistle_matter_code = dispatch_rules.matter_code
            and cast(whistles.known_at as date) >= dispatch_rules.valid_from
            and (dispatch_rules.valid_to is null or cast(whistles.known_at as date) < dispatch_rules.valid_to)

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
        case when events.closed_at is not null then events.last_alarm_at end as closed_at,
        events.as_of_at

    from routed
    inner join fct_warning_events as events
        on routed.warning_id = events.warning_id
    left join dim_departments
        on routed.responsible_unit_code = dim_departments.department_code
    left join dim_streets
        on routed.street_code = dim_streets.street_code

),

final as (

    select
        *,
        case
            when closed_at is null and as_of_at > due_at then '已超期'
            when closed_at is null then '处置中'
            when closed_at > due_at then '超期办结'
            else '已办结'
        end as status,
        closed_at is null as is_open,
        coalesce(closed_at, as_of_at) > due_at as is_overdue,
        round(epoch(closed_at - opened_at) / 3600, 1) as handling_hours

    from routed_orders

)

select * from final
