{#-
    The warning state of every indicator series, period by period, with hysteresis. One row
    per (indicator_code, area_level, area_code, subject_code, period_start).

    A series is in warning from the first period whose level is 蓝 or above. It leaves the
    warning only when the value has been clearly normal — level 0 and back past the lowest
    threshold by `deadband` × |threshold| — for `clear_periods` consecutive periods. Periods
    in between (a value hovering at the threshold, or with no level because data or baseline
    is missing) keep the state they found, so one episode is one warning.
-#}
with

fct_indicator_values as (

    -- The live path evaluates from a period no series is in warning before (warnings_from).
    select * from {{ ref('fct_indicator_values') }}
    where {{ warnings_from('period_start') }}

),

dim_indicators as (

    select * from {{ ref('dim_indicators') }}

),

lowest as (

    select
        fct_indicator_values.*,
        dim_indicators.direction,
        dim_indicators.deadband,
        dim_indicators.clear_periods,
        coalesce(
            fct_indicator_values.threshold_blue,
            fct_indicator_values.threshold_yellow,
            fct_indicator_values.threshold_orange,
            fct_indicator_values.threshold_red
        ) as lowest_threshold
    from fct_indicator_values
    inner join dim_indicators
        on fct_indicator_values.indicator_code = dim_indicators.indicator_code

),

flagged as (

    select
        *,
        coalesce(level, 0) >= 1 as is_alarm,
        level = 0
        and case
            when direction = 'higher_is_worse'
                then value < lowest_threshold - deadband * abs(lowest_threshold)
            else value > lowest_threshold + deadband * abs(lowest_threshold)
        end as is_clear
    from lowest

),

clear_groups as (

    -- Each period that is not clear starts a new group; the clear periods after it count up.
    select
        *,
        sum(case when coalesce(is_clear, false) then 0 else 1 end) over series_so_far as not_clear_seen
    from flagged
    window series_so_far as (
        partition by indicator_code, area_level, area_code, subject_code
        order by period_start
        rows between unbounded preceding and current row
    )

),

clear_runs as (

    select
        *,
        case
            when coalesce(is_clear, false)
                then
                    row_number()
                        over (
                            partition by indicator_code, area_level, area_code, subject_code, not_clear_seen
                            order by period_start
                        )
                    - case when not_clear_seen > 0 then 1 else 0 end
            else 0
        end as clear_run
    from clear_groups

),

marked as (

    select
        *,
        case
            when is_alarm then 1
            when clear_run >= clear_periods then 0
        end as marker
    from clear_runs

),

states as (

    select
        *,
        coalesce(
            last_value(marker ignore nulls) over series_so_far, 0
        ) = 1 as is_in_warning,
        lead(period_end) over series_in_order as next_period_end
    from marked
    window
        series_so_far as (
            partition by indicator_code, area_level, area_code, subject_code
            order by period_start
            rows between unbounded preceding and current row
        ),
        series_in_order as (
            partition by indicator_code, area_level, area_code, subject_code
            order by period_start
        )

),

with_previous as (

    select
        *,
        lag(is_in_warning) over (
            partition by indicator_code, area_level, area_code, subject_code
            order by period_start
        ) as was_in_warning
    from states

),

episodes as (

    select
        *,
        sum(
            case when is_in_warning and not coalesce(was_in_warning, false) then 1 else 0 end
        ) over (
            partition by indicator_code, area_level, area_code, subject_code
            order by period_start
            rows between unbounded preceding and current row
        ) as episode_number
    from with_previous

),

final as (

    select
        indicator_code,
        dimension,
        area_level,
        area_code,
        subject_code,
        grain,
        period_start,
        period_end,
        next_period_end,
        value,
        detail,
        level,
        occurred_at,
        direction,
        is_alarm,
        is_clear,
        clear_run,
        is_in_warning,
        case when is_in_warning then episode_number end as episode_number

    from episodes

)

select * from final
