-- Every registered indicator has rows at every area level it declares on every day of the
-- window, and a measured value on every day after the first week (the 7-day rates and the
-- 28-day price mean need a few days of history).
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

window_days as (

    select distinct period_date from int_vital_periods

),

expected as (

    select
        dim_indicators.indicator_code,
        unnest(string_split(dim_indicators.area_levels, ',')) as area_level,
        window_days.period_date,
        window_days.period_date >= min(window_days.period_date) over () + 7 as needs_value
    from dim_indicators
    cross join window_days

),

found as (

    select
        indicator_code,
        area_level,
        period_date,
        count(value) as measured
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
