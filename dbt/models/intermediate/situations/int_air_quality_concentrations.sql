{#-
    The concentrations the AQI reports of HJ 633-2012 (or of its revision HJ 633-2026, from
    the date CITYOPS_AQI_HJ633_2026_FROM names: column aqi_standard) are computed from, in
    long form, for every air station, street and the district.

    A street's or the district's 1-hour concentration is the mean of its stations' 1-hour
    means in that hour (HJ 663-2013 city practice: the arithmetic mean of the stations); its
    24-hour, 8-hour and daily statistics are then taken over that hourly series, exactly as
    a station's are taken over its own.

    `breakpoint_period` names the HJ 633-2012 table 1 rows (seed aqi_breakpoints) a value is
    indexed against. The hourly report (实时报) indexes SO2, NO2, CO and O3 1-hour means
    against their 1-hour rows and PM10 and PM2.5 1-hour means against their 24-hour rows
    (table 1 has no 1-hour rows for particles; this is how the national real-time release
    works), and carries the trailing 24-hour SO2 mean for note 2. The daily report (日报)
    uses 24-hour means, O3's daily maximum 1-hour mean and its daily maximum 8-hour moving
    mean (table 1 note 1: the 1-hour rows of SO2, NO2 and CO are for the hourly report only).
-#}
with

fct_device_readings_hourly as (

    -- The 24-hour and 8-hour means reach back within the live path's warm-up.
    select * from {{ ref('fct_device_readings_hourly') }}
    where {{ periods_from('hour_at') }}

),

dim_devices as (

    select * from {{ ref('dim_devices') }}

),

station_hours as (

    select
        dim_devices.device_id,
        dim_devices.street_code,
        dim_devices.grid_code,
        fct_device_readings_hourly.metric as pollutant,
        fct_device_readings_hourly.hour_at,
        fct_device_readings_hourly.avg_value as concentration

    from fct_device_readings_hourly
    inner join dim_devices
        on fct_device_readings_hourly.device_id = dim_devices.device_id
    where
        dim_devices.device_type = 'air_station'
        and fct_device_readings_hourly.metric in ('so2', 'no2', 'pm10', 'co', 'o3', 'pm25')
        and fct_device_readings_hourly.avg_value is not null

),

area_hours as (

    select
        'station' as area_level,
        device_id as area_code,
        street_code,
        grid_code,
        pollutant,
        hour_at,
        concentration,
        1 as station_count

    from station_hours

    union all

    select
        'street' as area_level,
        street_code as area_code,
        street_code,
        null as grid_code,
        pollutant,
        hour_at,
        avg(concentration) as concentration,
        count(*) as station_count

    from station_hours
    group by street_code, pollutant, hour_at

    union all

    -- The first six digits of an NBS street code are its district's code (310106 静安区).
    select
        'district' as area_level,
        left(street_code, 6) as area_code,
        null as street_code,
        null as grid_code,
        pollutant,
        hour_at,
        avg(concentration) as concentration,
        count(*) as station_count

    from station_hours
    group by left(street_code, 6), pollutant, hour_at

),

moving as (

    select
        *,
        avg(concentration) over trailing_24_hours as trailing_24h_concentration,
        count(concentration) over trailing_24_hours as trailing_24h_hour_count

    from area_hours
    window
        trailing_24_hours as (
            partition by area_level, area_code, pollutant
            order by hour_at
            range between interval 23 hours preceding and current row
        )

),

o3_8h_means as (

    -- O3 8-hour moving means (8小时滑动平均), one per window end hour, whether or not the
    -- end hour itself has a value: each hourly mean counts in the windows ending 0 … 7 hours
    -- after it. A window needs at least 6 hourly means (GB 3095-2012 table 4). Only windows
    -- ending at 8时 … 24时 (hours starting 07:00 … 23:00) count for the day (HJ 663-2013
    -- 臭氧日最大8小时平均), so every window lies inside its day.
    select
        area_hours.area_level,
        area_hours.area_code,
        area_hours.street_code,
        area_hours.grid_code,
        area_hours.hour_at + to_hours(window_offsets.offset_hours) as window_end_at,
        avg(area_hours.concentration) as concentration,
        max(area_hours.station_count) as station_count

    from area_hours
    cross join range(8) as window_offsets (offset_hours)
    where area_hours.pollutant = 'o3'
    group by
        area_hours.area_level,
        area_hours.area_code,
        area_hours.street_code,
        area_hours.grid_code,
        area_hours.hour_at + to_hours(window_offsets.offset_hours)
    having
        count(*) >= 6
        and hour(area_hours.hour_at + to_hours(window_offsets.offset_hours)) >= 7

),

hourly_report as (

    select
        'hourly' as report_type,
        area_level,
        area_code,
        street_code,
        grid_code,
        hour_at as period_start_at,
        pollutant,
        '1h_mean' as concentration_statistic,
        case when pollutant in ('pm10', 'pm25') then '24h' else '1h' end as breakpoint_period,
        concentration,
        1 as value_count,
        station_count

    from moving

    union all

    -- Table 1 note 2: above the 1-hour SO2 rows, SO2 is indexed by its 24-hour mean; the
    -- hourly report takes the 24 hours ending with the reported one.
    select
        'hourly' as report_type,
        area_level,
        area_code,
        street_code,
        grid_code,
        hour_at as period_start_at,
        pollutant,
        'trailing_24h_mean' as concentration_statistic,
        '24h' as breakpoint_period,
        trailing_24h_concentration as concentration,
        trailing_24h_hour_count as value_count,
        station_count

    from moving
    where pollutant = 'so2'

),

daily_report as (

    select
        'daily' as report_type,
        area_level,
        area_code,
        street_code,
        grid_code,
        date_trunc('day', hour_at) as period_start_at,
        pollutant,
        '24h_mean' as concentration_statistic,
        '24h' as breakpoint_period,
        avg(concentration) as concentration,
        count(*) as value_count,
        max(station_count) as station_count

    from moving
    where pollutant != 'o3'
    group by area_level, area_code, street_code, grid_code, date_trunc('day', hour_at), pollutant

    union all

    select
        'daily' as report_type,
        area_level,
        area_code,
        street_code,
        grid_code,
        date_trunc('day', hour_at) as period_start_at,
        pollutant,
        'max_1h_mean' as concentration_statistic,
        '1h' as breakpoint_period,
        max(concentration) as concentration,
        count(*) as value_count,
        max(station_count) as station_count

    from moving
    where pollutant = 'o3'
    group by area_level, area_code, street_code, grid_code, date_trunc('day', hour_at), pollutant

    union all

    select
        'daily' as report_type,
        area_level,
        area_code,
        street_code,
        grid_code,
        date_trunc('day', window_end_at) as period_start_at,
        'o3' as pollutant,
        'max_8h_moving_mean' as concentration_statistic,
        '8h' as breakpoint_period,
        max(concentration) as concentration,
        count(*) as value_count,
        max(station_count) as station_count

    from o3_8h_means
    group by area_level, area_code, street_code, grid_code, date_trunc('day', window_end_at)

),

reports as (

    select * from hourly_report
    union all
    select * from daily_report

),

final as (

    select
        *,
        -- The standard that grades the row (macro aqi_standard, seed aqi_standards).
        {{ aqi_standard('period_start_at') }} as aqi_standard

    from reports

)

select * from final
