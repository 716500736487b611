{#-
    预警事件: one row per warning — an episode of an indicator series in warning (see
    int_warning_states for the hysteresis). A warning is open until its series is clearly
    back to normal; `closed_at` is the end of the period that cleared it, null while open.
-#}
with

int_warning_states as (

    select * from {{ ref('int_warning_states') }}

),

dim_indicators as (

    select * from {{ ref('dim_indicators') }}

),

int_vital_areas as (

    select * from {{ ref('int_vital_areas') }}

),

ranked_states as (

    select
        *,
        -- Worse values first, then the earlier period: what "peak" means (null: no value).
        case
            when value is not null
                then [case when direction = 'higher_is_worse' then value else -value end, -epoch(period_start)]
        end as worst_first
    from int_warning_states
    where is_in_warning

),

episodes as (

    select
        indicator_code,
        area_level,
        area_code,
        subject_code,
        episode_number,
        min(period_start) as opened_at,
        arg_min(level, period_start) as opened_level,
        max(level) as peak_level,
        -- The worst value (highest when higher is worse, lowest otherwise), first reached.
        arg_max(value, worst_first) as peak_value,
        arg_max(period_start, worst_first) as peak_at,
        -- The *_null forms take the chosen row's value even when it is null: plain arg_max
        -- skips null values and would answer with another row's.
        arg_max_null(detail, worst_first) as peak_detail,
        max(period_end) filter (where is_alarm) as last_alarm_at,
        arg_max(level, period_start) as last_level,
        arg_max_null(value, period_start) as last_value,
        -- The newest period in warning has no next period while the warning is still open:
        -- closed_at is null then, never an earlier period's end.
        arg_max_null(next_period_end, period_start) as closed_at,
        count(*) filter (where is_alarm) as alarm_periods
    from ranked_states
    group by indicator_code, area_level, area_code, subject_code, episode_number

),

as_of as (

    select max(period_end) as as_of_at from int_warning_states

),

final as (

    select
        episodes.indicator_code
        || '|' || episodes.area_code
        || '|' || episodes.subject_code
        || '|' || strftime(episodes.opened_at, '%Y%m%dT%H') as warning_id,
        episodes.indicator_code,
        dim_indicators.indicator_name,
        dim_indicators.dimension,
        dim_indicators.dimension_name,
        dim_indicators.unit,
        episodes.area_level,
        episodes.area_code,
        areas.area_name,
        coalesce(areas.street_code, case when episodes.area_level = 'street' then episodes.area_code end)
            as street_code,
        areas.grid_code,
        episodes.subject_code,
        episodes.opened_at,
        episodes.opened_level,
        episodes.peak_level,
        case episodes.peak_level
            when 1 then '蓝' when 2 then '黄' when 3 then '橙' when 4 then '红'
        end as peak_level_name,
        episodes.peak_value,
        episodes.peak_at,
        episodes.peak_detail,
        episodes.last_level,
        -- The level now, for an open warning: what its dimension's tile shows (0 while it
        -- waits out its clear periods).
        case episodes.last_level
            when 0 then '绿' when 1 then '蓝' when 2 then '黄' when 3 then '橙' when 4 then '红'
        end as last_level_name,
        episodes.last_value,
        episodes.last_alarm_at,
        episodes.closed_at,
        episodes.closed_at is null as is_open,
        case when episodes.closed_at is null then '预警中' else '已解除' end as status,
        round(
            epoch(coalesce(episodes.closed_at, as_of.as_of_at) - episodes.opened_at) / 3600, 1
        ) as duration_hours,
        episodes.alarm_periods,
        dim_indicators.owner_department_code,
        dim_indicators.whistle_matter_code,
        dim_indicators.finest_area_level,
        as_of.as_of_at

    from episodes
    inner join dim_indicators
        on episodes.indicator_code = dim_indicators.indicator_code
    left join int_vital_areas as areas
        on episodes.area_level = areas.area_level and episodes.area_code = areas.area_code
    cross join as_of

)

select * from final
