{#-
    气象 vital signs: rainfall over 1, 3 and 6 hours from the rain gauges (street and
    district: the wettest gauge), the day's maximum temperature and the hour's strongest
    mean wind from the weather stations (district).
-#}
with

fct_device_readings_hourly as (

    -- The 3- and 6-hour sums reach back within the live path's warm-up.
    select * from {{ ref('fct_device_readings_hourly') }}
    where {{ periods_from('hour_at') }}

),

dim_devices as (

    select * from {{ ref('dim_devices') }}

),

fct_weather_hourly as (

    select * from {{ ref('fct_weather_hourly') }}

),

int_vital_periods as (

    select * from {{ ref('int_vital_periods') }}

),

gauges as (

    select
        device_id,
        street_code,
        grid_code
    from dim_devices
    where device_type = 'rain_gauge'

),

gauge_hours as (

    -- Every gauge-hour of the window; a gauge that sent nothing has an unknown (null) hour.
    {{ device_hour_series('gauges', 'rainfall_mm', 'sum_value', 'rainfall_mm') }}

),

gauge_rolling as (

    select
        *,
        sum(rainfall_mm) over (
            partition by device_id order by hour_at
            range between interval 2 hours preceding and current row
        ) as rainfall_3h_mm,
        sum(rainfall_mm) over (
            partition by device_id order by hour_at
            range between interval 5 hours preceding and current row
        ) as rainfall_6h_mm
    from gauge_hours

),

gauge_areas as (

    {{ fan_out_to_areas('gauge_rolling', ['district', 'street']) }}

),

rain as (

    select
        area_level,
        area_code,
        hour_at as period_start,
        max(rainfall_mm) as rainfall_mm,
        -- The wettest gauge of each window; none is named in a dry hour.
        case when max(rainfall_mm) > 0 then {{ arg_max_stable('device_id', 'rainfall_mm', 'device_id') }} end
            as wettest_1h_gauge,
        max(rainfall_3h_mm) as rainfall_3h_mm,
        case when max(rainfall_3h_mm) > 0 then {{ arg_max_stable('device_id', 'rainfall_3h_mm', 'device_id') }} end
            as wettest_3h_gauge,
        max(rainfall_6h_mm) as rainfall_6h_mm,
        case when max(rainfall_6h_mm) > 0 then {{ arg_max_stable('device_id', 'rainfall_6h_mm', 'device_id') }} end
            as wettest_6h_gauge
    from gauge_areas
    group by area_level, area_code, hour_at

),

station_hours as (

    select
        periods.period_start as hour_at,
        periods.period_date,
        max(weather.wind_speed_ms) as wind_speed_ms,
        {{ arg_max_stable('weather.station_name', 'weather.wind_speed_ms', 'weather.station_name') }}
            as windiest_station,
        max(weather.temperature_c) as temperature_c,
        {{ arg_max_stable('weather.station_name', 'weather.temperature_c', 'weather.station_name') }}
            as hottest_station
    from int_vital_periods as periods
    left join fct_weather_hourly as weather
        on periods.period_start = weather.observed_at
    where periods.grain = 'hour'
    group by periods.period_start, periods.period_date

),

station_days as (

    select
        cast(period_date as timestamp) as period_start,
        max(temperature_c) as temperature_max_c,
        {{ arg_max_stable('hottest_station', 'temperature_c', 'hottest_station') }} as hottest_station
    from station_hours
    group by period_date

),

final as (

    select
        'WEA_RAIN_1H' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        period_start,
        round(rainfall_mm, 1) as value,
        wettest_1h_gauge as detail,
        cast(null as timestamp[]) as event_times
    from rain
    union all
    select
        'WEA_RAIN_3H' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        period_start,
        round(rainfall_3h_mm, 1) as value,
        wettest_3h_gauge as detail,
        cast(null as timestamp[]) as event_times
    from rain
    union all
    select
        'WEA_RAIN_6H' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        period_start,
        round(rainfall_6h_mm, 1) as value,
        wettest_6h_gauge as detail,
        cast(null as timestamp[]) as event_times
    from rain
    union all
    select
        'WEA_TEMP_MAX' as indicator_code,
        'district' as area_level,
        '{{ var("district_code") }}' as area_code,
        '-' as subject_code,
        period_start,
        temperature_max_c as value,
        hottest_station as detail,
        cast(null as timestamp[]) as event_times
    from station_days
    union all
    select
        'WEA_WIND_MAX' as indicator_code,
        'district' as area_level,
        '{{ var("district_code") }}' as area_code,
        '-' as subject_code,
        hour_at as period_start,
        wind_speed_ms as value,
        windiest_station as detail,
        cast(null as timestamp[]) as event_times
    from station_hours

)

select * from final
