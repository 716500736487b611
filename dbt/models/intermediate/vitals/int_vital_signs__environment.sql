{#-
    环境 vital signs: hourly and daily AQI (by the standard in force, fct_air_quality_hourly /
    _daily), the day's mean PM2.5 per street and for the district (days with at least 20
    valid hours), and noise reports (daily).
-#}
with

fct_air_quality_hourly as (

    select * from {{ ref('fct_air_quality_hourly') }}

),

fct_air_quality_daily as (

    select * from {{ ref('fct_air_quality_daily') }}

),

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

fct_grid_cases as (

    select * from {{ ref('fct_grid_cases') }}

),

noise_reports as (

    {{ hotline_reports(['010101', '010102']) }}
    union all
    {{ grid_case_reports('事件', ['0301']) }}

),

final as (

    select
        'ENV_AQI_HOURLY' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        hour_at as period_start,
        cast(aqi as double) as value,
        primary_pollutant as detail,
        cast(null as timestamp[]) as event_times
    from fct_air_quality_hourly
    where area_level in ('district', 'street')
    union all
    select
        'ENV_AQI_DAILY' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        cast(stat_date as timestamp) as period_start,
        -- A daily value needs 20 valid hours (GB 3095-2012 data validity); fewer: no value.
        case when has_enough_valid_hours then cast(aqi as double) end as value,
        primary_pollutant as detail,
        cast(null as timestamp[]) as event_times
    from fct_air_quality_daily
    where area_level in ('district', 'street')
    union all
    select
        'ENV_PM25_24H' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        cast(stat_date as timestamp) as period_start,
        case when has_enough_valid_hours then round(pm25_24h_ug_m3, 1) end as value,
        cast(null as varchar) as detail,
        cast(null as timestamp[]) as event_times
    from fct_air_quality_daily
    where area_level in ('district', 'street')
    union all
    {{ daily_report_counts('ENV_NOISE_REPORTS', 'noise_reports', ['district', 'street']) }}

)

select * from final
