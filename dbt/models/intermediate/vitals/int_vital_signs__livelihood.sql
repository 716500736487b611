{#-
    民生 vital signs: the 12345 按时办结率 and 满意率 over the trailing 7 days (sums of the
    KPI numerators and denominators, never an average of rates), repeat complaints and heat
    illness reports (daily), and 智能水管家: the longest run of zero-flow hours among the
    water meters of elderly people living alone (hourly, down to the grid; counted back at
    most `silent_meter_max_hours`).
-#}
with

kpi_hotline_daily as (

    select * from {{ ref('kpi_hotline_daily') }}

),

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

int_hotline_order_repeats as (

    select * from {{ ref('int_hotline_order_repeats') }}

),

fct_device_readings_hourly as (

    select * from {{ ref('fct_device_readings_hourly') }}

),

dim_care_residents as (

    select * from {{ ref('dim_care_residents') }}

),

kpis as (

    select
        street_code,
        cast(null as varchar) as grid_code,
        stat_date,
        replied_on_time_orders,
        due_orders,
        satisfied_orders,
        callback_orders
    from kpi_hotline_daily

),

kpi_areas as (

    {{ fan_out_to_areas('kpis', ['district', 'street']) }}

),

day_spine as (

    {{ vital_spine('day', ['district', 'street']) }}

),

kpi_days as (

    select
        day_spine.area_level,
        day_spine.area_code,
        day_spine.period_start,
        coalesce(sum(kpi_areas.replied_on_time_orders), 0) as replied_on_time_orders,
        coalesce(sum(kpi_areas.due_orders), 0) as due_orders,
        coalesce(sum(kpi_areas.satisfied_orders), 0) as satisfied_orders,
        coalesce(sum(kpi_areas.callback_orders), 0) as callback_orders
    from day_spine
    left join kpi_areas
        on
            day_spine.area_level = kpi_areas.area_level
            and day_spine.area_code = kpi_areas.area_code
            and day_spine.period_start = cast(kpi_areas.stat_date as timestamp)
    group by day_spine.area_level, day_spine.area_code, day_spine.period_start

),

kpi_weeks as (

    select
        area_level,
        area_code,
        period_start,
        sum(replied_on_time_orders) over last_7_days as replied_on_time_orders,
        sum(due_orders) over last_7_days as due_orders,
        sum(satisfied_orders) over last_7_days as satisfied_orders,
        sum(callback_orders) over last_7_days as callback_orders
    from kpi_days
    window last_7_days as (
        partition by area_level, area_code order by period_start
        range between interval 6 days preceding and current row
    )

),

repeat_complaints as (

    select
        fct_hotline_orders.street_code,
        fct_hotline_orders.grid_code,
        fct_hotline_orders.accepted_date as report_date,
        fct_hotline_orders.accepted_at as report_at
    from int_hotline_order_repeats
    inner join fct_hotline_orders
        on int_hotline_order_repeats.order_id = fct_hotline_orders.order_id
    where int_hotline_order_repeats.is_repeat_order

),

heat_illness_reports as (

    {{ hotline_reports(['100101']) }}

),

meter_hours as (

    select
        readings.device_id,
        residents.street_code,
        residents.grid_code,
        readings.hour_at,
        readings.sum_value = 0 as is_silent
    from fct_device_readings_hourly as readings
    inner join dim_care_residents as residents
        on readings.device_id = residents.device_id
    where readings.metric = 'water_flow_l' and {{ periods_from('readings.hour_at') }}

),

meter_runs as (

    -- Gaps and islands: consecutive silent hours of a meter share a run; an hour with
    -- water use, or with no reading, ends it.
    select
        *,
        epoch(hour_at) // 3600
        - row_number() over (partition by device_id, is_silent order by hour_at) as run_id
    from meter_hours

),

meter_silence as (

    select
        device_id,
        street_code,
        grid_code,
        hour_at,
        -- Counted back at most `silent_meter_max_hours`: a bounded look-back.
        case
            when is_silent
                then least(
                        row_number() over (partition by device_id, is_silent, run_id order by hour_at),
                        {{ var('silent_meter_max_hours') }}
                    )
            else 0
        end as silent_hours
    from meter_runs

),

silence_areas as (

    {{ fan_out_to_areas('meter_silence', ['district', 'street', 'grid']) }}

),

silence_hours as (

    select
        area_level,
        area_code,
        hour_at as period_start,
        max(silent_hours) as silent_hours,
        string_agg(device_id || '(' || silent_hours || 'h)', ',' order by silent_hours desc, device_id asc)
        filter (where silent_hours >= 10) as detail,
        cast(null as timestamp[]) as event_times
    from silence_areas
    group by area_level, area_code, hour_at

),

final as (

    select
        'LIV_ONTIME_RATE' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        period_start,
        -- Below `vital_rate_min_orders` orders a rate says little: no value, no level.
        case
            when due_orders >= {{ var('vital_rate_min_orders') }}
                then round(100.0 * replied_on_time_orders / due_orders, 1)
        end as value,
        cast(replied_on_time_orders as varchar) || '/' || cast(due_orders as varchar) as detail,
        cast(null as timestamp[]) as event_times
    from kpi_weeks
    union all
    select
        'LIV_SATISFACTION_RATE' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        period_start,
        case
            when callback_orders >= {{ var('vital_rate_min_orders') }}
                then round(100.0 * satisfied_orders / callback_orders, 1)
        end as value,
        cast(satisfied_orders as varchar) || '/' || cast(callback_orders as varchar) as detail,
        cast(null as timestamp[]) as event_times
    from kpi_weeks
    union all
    {{ daily_report_counts('LIV_REPEAT_COMPLAINTS', 'repeat_complaints', ['district', 'street']) }}
    union all
    {{ daily_report_counts('LIV_HEAT_ILLNESS_REPORTS', 'heat_illness_reports', ['district', 'street']) }}
    union all
    select
        'LIV_ELDERLY_WATER_SILENCE' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        period_start,
        cast(silent_hours as double) as value,
        detail,
        cast(null as timestamp[]) as event_times
    from silence_hours

)

select * from final
