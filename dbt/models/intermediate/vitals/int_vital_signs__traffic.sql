{#-
    交通 vital signs: mean road speed, a TPI-style congestion index and the share of
    congested segments from the road-segment detectors (hourly), and illegal-parking reports
    from 12345 and the grid (daily).
-#}
with

fct_device_readings_hourly as (

    -- The free-flow speed looks back 28 days (the live path measures a bounded span).
    select * from {{ ref('fct_device_readings_hourly') }}
    where {{ periods_from('hour_at', 28 * 24) }}

),

dim_devices as (

    select * from {{ ref('dim_devices') }}

),

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

fct_grid_cases as (

    select * from {{ ref('fct_grid_cases') }}

),

segment_hours as (

    select
        speeds.device_id,
        devices.street_code,
        devices.grid_code,
        speeds.hour_at,
        speeds.avg_value as speed_kmh,
        greatest(coalesce(flows.sum_value, 0), 1) as vehicles
    from fct_device_readings_hourly as speeds
    inner join dim_devices as devices
        on speeds.device_id = devices.device_id
    left join fct_device_readings_hourly as flows
        on
            speeds.device_id = flows.device_id
            and speeds.hour_at = flows.hour_at
            and flows.metric = 'flow_veh'
    where
        speeds.metric = 'speed_kmh'
        and speeds.avg_value > 0

),

daily_speeds as (

    -- Each segment's 85th-percentile hourly speed of each day.
    select
        device_id,
        cast(hour_at as date) as speed_date,
        quantile_cont(speed_kmh, 0.85) as p85_kmh
    from segment_hours
    group by device_id, cast(hour_at as date)

),

free_flow as (

    -- Free-flow speed: the median of the segment's daily 85th-percentile speeds over the 28
    -- days before (none on its first day). A bounded look-back: a day's index never changes
    -- once the day has passed, and the day being measured does not move its own reference.
    select
        device_id,
        speed_date,
        median(p85_kmh) over (
            partition by device_id order by speed_date
            range between interval 28 days preceding and interval 1 day preceding
        ) as free_flow_kmh
    from daily_speeds

),

segments as (

    select
        segment_hours.*,
        free_flow.free_flow_kmh / segment_hours.speed_kmh as travel_time_ratio
    from segment_hours
    left join free_flow
        on
            segment_hours.device_id = free_flow.device_id
            and cast(segment_hours.hour_at as date) = free_flow.speed_date

),

segment_areas as (

    {{ fan_out_to_areas('segments', ['district', 'street']) }}

),

road_hours as (

    select
        area_level,
        area_code,
        hour_at as period_start,
        -- Rounded to 1e-6 before the TPI bands and the rounding to 0.1 below: a parallel sum
        -- adds in no fixed order, and its last bits would otherwise decide a value lying on
        -- a band edge or on x.x5 (as in fct_device_readings_hourly).
        round(sum(speed_kmh * vehicles) / sum(vehicles), 6) as speed_kmh,
        -- Over the segments with a free-flow speed (all but on a segment's first day).
        round(
            sum(travel_time_ratio * vehicles) / sum(vehicles) filter (where travel_time_ratio is not null) - 1, 6
        ) as extra_travel_time,
        100.0 * count(*) filter (where speed_kmh <= 20) / count(*) as congested_share,
        count(*) as segment_count
    from segment_areas
    group by area_level, area_code, hour_at

),

parking_reports as (

    {{ hotline_reports(['050101']) }}
    union all
    {{ grid_case_reports('事件', ['0502', '0504']) }}

),

final as (

    select
        'TRA_ROAD_SPEED' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        period_start,
        round(speed_kmh, 1) as value,
        cast(segment_count as varchar) || '个路段' as detail,
        cast(null as timestamp[]) as event_times
    from road_hours
    union all
    select
        'TRA_CONGESTION_INDEX' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        period_start,
        -- TPI from the extra travel time (domain.md §3.3 bands; breakpoints 💡): linear
        -- between (0, 0), (0.2, 2), (0.5, 4), (0.8, 6), (1.1, 8), (2.0, 10), capped at 10.
        round(
            case
                when extra_travel_time is null then null
                when extra_travel_time <= 0 then 0
                when extra_travel_time <= 0.2 then extra_travel_time / 0.2 * 2
                when extra_travel_time <= 0.5 then 2 + (extra_travel_time - 0.2) / 0.3 * 2
                when extra_travel_time <= 0.8 then 4 + (extra_travel_time - 0.5) / 0.3 * 2
                when extra_travel_time <= 1.1 then 6 + (extra_travel_time - 0.8) / 0.3 * 2
                when extra_travel_time <= 2.0 then 8 + (extra_travel_time - 1.1) / 0.9 * 2
                else 10
            end,
            1
        ) as value,
        '行程时间比 ' || cast(round(extra_travel_time + 1, 2) as varchar) as detail,
        cast(null as timestamp[]) as event_times
    from road_hours
    union all
    select
        'TRA_CONGESTED_SHARE' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        period_start,
        round(congested_share, 1) as value,
        cast(segment_count as varchar) || '个路段' as detail,
        cast(null as timestamp[]) as event_times
    from road_hours
    union all
    {{ daily_report_counts('TRA_PARKING_REPORTS', 'parking_reports', ['district', 'street']) }}

)

select * from final
