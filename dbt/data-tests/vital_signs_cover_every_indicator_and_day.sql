-- Every registered indicator has rows at every area level it declares on every day of the
-- window, and a measured value on every day after the first week (the 7-day rates and the
-- 28-day price mean need a few days of history) whose seven days hold a working day: over
-- 春节 or 国庆 no order falls due for a whole week, and a rate without orders has no value
-- (2024-02-16/17 at district-year scale). A 7-day rate withheld because its seven days hold
-- fewer than `vital_rate_min_orders` orders counts as measured: its detail shows the count
-- (a street's week over 国庆 or 春节 at scale 0.25).
with

dim_indicators as (

    select * from {{ ref('dim_indicators') }}

),

int_vital_periods as (

    select * from {{ ref('int_vital_periods') }}

),

fct_indicator_values as (

    select * from {{ ref('fct_indicator_values') }}

),

workday_calendar as (

    select * from {{ ref('workday_calendar') }}

),

period_dates as (

    select distinct period_date from int_vital_periods

),

window_days as (

    select
        period_dates.period_date,
        count(workday_calendar.calendar_date) > 0 as has_workday_in_week
    from period_dates
    left join workday_calendar
        on
            workday_calendar.is_workday
            and workday_calendar.calendar_date between period_dates.period_date - 6
            and period_dates.period_date
    group by period_dates.period_date

),

expected as (

    select
        dim_indicators.indicator_code,
        unnest(string_split(dim_indicators.area_levels, ',')) as area_level,
        window_days.period_date,
        window_days.period_date >= min(window_days.period_date) over () + 7
        and window_days.has_workday_in_week as needs_value
    from dim_indicators
    cross join window_days

),

found as (

    select
        indicator_code,
        area_level,
        period_date,
        count(value)
        + count(*) filter (
            where
            value is null
            and indicator_code in ('LIV_ONTIME_RATE', 'LIV_SATISFACTION_RATE')
            and try_cast(split_part(detail, '/', 2) as integer) < {{ var('vital_rate_min_orders') }}
        ) as measured
    from fct_indicator_values
    group by all

)

select
    expected.*,
    found.measured
from expected
left join found
    on
        expected.indicator_code = found.indicator_code
        and expected.area_level = found.area_level
        and expected.period_date = found.period_date
where found.indicator_code is null or (expected.needs_value and found.measured = 0)
