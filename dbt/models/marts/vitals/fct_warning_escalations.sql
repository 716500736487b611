{#-
    预警升级: the moments a warning opened or reached a higher level than before. One row per
    (warning_id, level). The notifier sends one message per row (de-duplicated on
    warning_id and level), and 橙 or 红 rows open 吹哨 orders.

    `reached_at` is the start of the period that reached the level; `known_at` is when the
    data showed it: the time of the alarm or report that brought a count to the threshold,
    else the end of the period (its data complete).
-#}
with

int_warning_states as (

    select * from {{ ref('int_warning_states') }}

),

fct_warning_events as (

    select * from {{ ref('fct_warning_events') }}

),

in_warning as (

    select
        *,
        coalesce(
            max(level) over (
                partition by indicator_code, area_level, area_code, subject_code, episode_number
                order by period_start
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as level_before,
        -- The warning's first period: with the series, what identifies it in fct_warning_events.
        min(period_start) over (
            partition by indicator_code, area_level, area_code, subject_code, episode_number
        ) as opened_at
    from int_warning_states
    where is_in_warning

),

steps as (

    select
        indicator_code,
        area_level,
        area_code,
        subject_code,
        opened_at,
        level,
        min(period_start) as reached_at,
        coalesce(arg_min_null(occurred_at, period_start), arg_min(period_end, period_start)) as known_at,
        -- The value and detail of the period that reached the level, even when null.
        arg_min_null(value, period_start) as value,
        arg_min_null(detail, period_start) as detail,
        min(level_before) as level_before
    from in_warning
    where level > level_before
    group by all

),

final as (

    select
        events.warning_id || '|' || cast(steps.level as varchar) as escalation_id,
        events.warning_id,
        steps.indicator_code,
        events.indicator_name,
        events.dimension,
        events.dimension_name,
        events.unit,
        steps.area_level,
        steps.area_code,
        events.area_name,
        events.street_code,
        events.grid_code,
        steps.subject_code,
        case when steps.level_before = 0 then 'opened' else 'escalated' end as event_kind,
        steps.level,
        case steps.level when 1 then '蓝' when 2 then '黄' when 3 then '橙' when 4 then '红' end
            as level_name,
        steps.reached_at,
        steps.known_at,
        steps.value,
        steps.detail,
        events.whistle_matter_code,
        events.finest_area_level

    from steps
    inner join fct_warning_events as events
        on
            steps.indicator_code = events.indicator_code
            and steps.area_level = events.area_level
            and steps.area_code = events.area_code
            and steps.subject_code = events.subject_code
            and steps.opened_at = events.opened_at

)

select * from final
