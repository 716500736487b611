{#-
    经济 vital signs: business-district footfall (hourly) and sales (daily), one series per
    business district (the subject) in its street; new enterprise registrations (daily); and
    the largest wet-market price rise over its own 28-day mean (daily).
-#}
with

fct_business_district_flows_hourly as (

    select * from {{ ref('fct_business_district_flows_hourly') }}

),

business_districts as (

    select * from {{ ref('business_districts') }}

),

dim_enterprises as (

    select * from {{ ref('dim_enterprises') }}

),

fct_market_prices_daily as (

    select * from {{ ref('fct_market_prices_daily') }}

),

wet_markets as (

    select * from {{ ref('wet_markets') }}

),

int_vital_periods as (

    select * from {{ ref('int_vital_periods') }}

),

flows as (

    select
        flows.district_code,
        flows.district_name,
        business_districts.street_code,
        flows.hour_at,
        flows.flow_date,
        flows.footfall,
        flows.sales_yuan
    from fct_business_district_flows_hourly as flows
    inner join business_districts
        on flows.district_code = business_districts.district_code
    inner join int_vital_periods as periods
        on periods.grain = 'hour' and flows.hour_at = periods.period_start

),

registrations as (

    select
        street_code,
        grid_code,
        established_date as report_date,
        -- A registration is dated, not timed: it counts at the day's end.
        cast(null as timestamp) as report_at
    from dim_enterprises

),

price_history as (

    select
        prices.market_code,
        prices.market_name,
        prices.commodity_name,
        wet_markets.street_code,
        cast(null as varchar) as grid_code,
        prices.price_date,
        prices.price_yuan,
        avg(prices.price_yuan) over price_history_window as mean_price_28d,
        count(prices.price_yuan) over price_history_window as price_history_days
    from fct_market_prices_daily as prices
    inner join wet_markets
        on prices.market_code = wet_markets.market_code
    window price_history_window as (
        partition by prices.market_code, prices.commodity_code
        order by prices.price_date
        range between interval 28 days preceding and interval 1 day preceding
    )

),

priced_with_history as (

    -- A mean of too few earlier prices is no baseline (`price_baseline_min_days`): the day
    -- keeps its row, without a deviation.
    select
        * replace (
            case
                when price_history_days >= {{ var('price_baseline_min_days') }} then mean_price_28d
            end as mean_price_28d
        )
    from price_history

),

price_areas as (

    {{ fan_out_to_areas('priced_with_history', ['district', 'street']) }}

),

price_deviation as (

    select
        area_level,
        area_code,
        cast(price_date as timestamp) as period_start,
        max(100 * (price_yuan / mean_price_28d - 1)) as deviation_pct,
        {{ arg_max_stable(
            "market_name || ' ' || commodity_name || ' ' || cast(price_yuan as varchar) || '元'",
            'price_yuan / mean_price_28d',
            'market_code || commodity_name',
        ) }} as detail,
        cast(null as timestamp[]) as event_times
    from price_areas
    group by all

),

final as (

    select
        'ECO_FOOTFALL' as indicator_code,
        'street' as area_level,
        street_code as area_code,
        district_code as subject_code,
        hour_at as period_start,
        cast(footfall as double) as value,
        district_name as detail,
        cast(null as timestamp[]) as event_times
    from flows
    union all
    select
        'ECO_SALES' as indicator_code,
        'street' as area_level,
        street_code as area_code,
        district_code as subject_code,
        cast(flow_date as timestamp) as period_start,
        cast(sum(sales_yuan) as double) as value,
        any_value(district_name) as detail,
        cast(null as timestamp[]) as event_times
    from flows
    group by street_code, district_code, flow_date
    union all
    {{ daily_report_counts('ECO_ENTERPRISE_REGISTRATIONS', 'registrations', ['district', 'street']) }}
    union all
    select
        'ECO_MARKET_PRICE_DEVIATION' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        period_start,
        round(deviation_pct, 1) as value,
        detail,
        cast(null as timestamp[]) as event_times
    from price_deviation

)

select * from final
