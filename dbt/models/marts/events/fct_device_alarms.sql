{#-
    Device alarms from the hourly readings: an alarm flag at 1 (烟感, 充电过流, 电梯故障,
    电梯困人, 燃气) or a ponding depth at or above its underpass's warning depth.

    `normal_at` is when the device reported normal again (a flag back below 1, a depth below
    the warning depth): the first hour of the alarm's series, from the alarm's own on, whose
    last reading is normal. If every reading of that hour is normal, its first reading (the
    hours between ended in alarm or had no readings: exact); if it was in alarm first, its
    last reading, by which it had returned at the latest (exact for a flag, which reports its
    changes, 1 then 0; at most 55 minutes late for a depth read every 5 minutes). The hourly
    aggregates tell no more. Consecutive alarm hours of a series share it; null while the
    data shows no return.

    Incremental, re-derived whole on every build (strategy `delivery_window`, every row in
    the slice): an alarm follows its hour's readings, and an hour can change without the
    window's deliveries carrying it any more (withdrawing a newer copy of a reading brings
    back the older value), which no delivery span of the alarm can show; and a reading
    delivered later can end an alarm. The alarms are a filter of the hourly table over the
    alarm metrics: 6 k of 22 M device-hours in the 30-day demo, read in about 0.1 s.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delivery_window',
        unique_key='alarm_id',
        always_rebuilt='true',
    )
}}

with

fct_device_readings_hourly as (

    -- A live run re-derives the alarms of the span it measures only (periods_from).
    select * from {{ ref('fct_device_readings_hourly') }}
    where {{ periods_from('hour_at') }}

),

iot_metrics as (

    select * from {{ ref('iot_metrics') }}

),

dim_devices as (

    select * from {{ ref('dim_devices') }}

),

underpasses as (

    select * from {{ ref('underpasses') }}

),

metric_hours as (

    -- Every hour of an alarm metric, with the value at which it is in alarm.
    select
        fct_device_readings_hourly.*,
        iot_metrics.alarm_kind,
        iot_metrics.alarm_name,
        iot_metrics.alarm_severity,
        dim_devices.device_type,
        dim_devices.street_code,
        dim_devices.grid_code,
        dim_devices.underpass_code,
        underpasses.warning_depth_cm,
        case iot_metrics.alarm_kind
            when 'flag' then 1
            when 'underpass_warning_depth' then underpasses.warning_depth_cm
        end as alarm_level

    from fct_device_readings_hourly
    inner join iot_metrics
        on fct_device_readings_hourly.metric = iot_metrics.metric
    left join dim_devices
        on fct_device_readings_hourly.device_id = dim_devices.device_id
    left join underpasses
        on dim_devices.underpass_code = underpasses.underpass_code
    where iot_metrics.alarm_kind is not null

),

alarm_series as (

    select distinct
        device_id,
        metric

    from metric_hours
    where max_value >= alarm_level

),

series_hours as (

    -- The hours of the series that alarm, each with the first reading known to be normal in
    -- it or a later hour (the times grow with the hours: the earliest is the first).
    select
        metric_hours.*,
        min(
            case
                when metric_hours.max_value < metric_hours.alarm_level
                    then metric_hours.first_reading_at
                when metric_hours.last_value < metric_hours.alarm_level
                    then metric_hours.last_reading_at
            end
        ) over (
            partition by metric_hours.device_id, metric_hours.metric
            order by metric_hours.hour_at
            rows between current row and unbounded following
        ) as normal_at

    from metric_hours
    inner join alarm_series
        on
            metric_hours.device_id = alarm_series.device_id
            and metric_hours.metric = alarm_series.metric

),

final as (

    select
        device_id || '|' || metric || '|' || strftime(hour_at, '%Y-%m-%dT%H') as alarm_id,
        device_id,
        device_type,
        metric,
        alarm_name,
        alarm_severity,
        hour_at,
        -- The first reading at the hour's peak: the alarm's onset within the hour.
        peak_at as alarm_at,
        cast(peak_at as date) as alarm_date,
        max_value as peak_value,
        case when alarm_kind = 'flag' then cast(sum_value as integer) end as alarm_reading_count,
        warning_depth_cm as threshold_value,
        normal_at,
        street_code,
        grid_code,
        underpass_code,
        first_delivery_date,
        last_delivery_date

    from series_hours
    where max_value >= alarm_level

)

select * from final
