{#-
    The periods vital signs are measured over: every hour and every day from the first to
    the last delivery day of the lake, with the calendar facts the holiday-aware baseline
    needs. One row per (grain, period_start).
-#}
with

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

fct_device_readings_hourly as (

    select * from {{ ref('fct_device_readings_hourly') }}

),

dim_dates as (

    select * from {{ ref('dim_dates') }}

),

delivery_days as (

    select
        min(first_delivery_date) as first_day,
        max(last_delivery_date) as last_day
    from fct_hotline_orders
    union all
    select
        min(last_delivery_date) as first_day,
        max(last_delivery_date) as last_day
    from fct_device_readings_hourly

),

observed as (

    select
        min(first_day) as first_day,
        max(last_day) as last_day
    from delivery_days

),

days as (

    select dim_dates.*
    from dim_dates
    inner join observed
        on dim_dates.calendar_date between observed.first_day and observed.last_day

),

hours as (

    select unnest(generate_series(0, 23)) as hour_of_day

),

periods as (

    select
        'day' as grain,
        cast(days.calendar_date as timestamp) as period_start,
        cast(days.calendar_date as timestamp) + interval 1 day as period_end,
        cast(null as integer) as hour_of_day,
        days.*
    from days
    union all
    select
        'hour' as grain,
        cast(days.calendar_date as timestamp) + to_hours(hours.hour_of_day) as period_start,
        cast(days.calendar_date as timestamp) + to_hours(hours.hour_of_day + 1) as period_end,
        hours.hour_of_day,
        days.*
    from days
    cross join hours

),

final as (

    select
        grain,
        period_start,
        period_end,
        calendar_date as period_date,
        hour_of_day,
        iso_weekday,
        day_kind,
        is_workday,
        -- Baseline peers: a regular day is compared with the same weekday; a 法定节假日 or a
        -- 调休 make-up day with any day of its type (rest / work), as it breaks the weekly rhythm.
        day_kind in ('holiday', 'makeup_workday') as is_irregular_day

    from periods
    where {{ periods_until('period_end') }} and {{ periods_from('period_start') }}

)

select * from final
