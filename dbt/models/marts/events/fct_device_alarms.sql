{#-
    Device alarms from the hourly readings: an alarm flag at 1 (烟感, 充电过流, 电梯故障,
    电梯困人) or a ponding depth at or above its underpass's warning depth.

    Incremental, re-derived whole on every build (strategy `delivery_window`, every row in
    the slice): an alarm follows its hour's readings, and an hour can change without the
    window's deliveries carrying it any more (withdrawing a newer copy of a reading brings
    back the older value), which no delivery span of the alarm can show. The alarms are a
    filter of the hourly table over the five alarm metrics: 6 k of 22 M device-hours in the
    30-day demo, read in about 0.1 s.
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

alarm_hours as (

    select
        fct_device_readings_hourly.*,
        iot_metrics.alarm_kind,
        iot_metrics.alarm_name,
        iot_metrics.alarm_severity,
        dim_devices.device_type,
        dim_devices.street_code,
        dim_devices.grid_code,
        dim_devices.underpass_code,
        underpasses.warning_depth_cm

    from fct_device_readings_hourly
    inner join iot_metrics
        on fct_device_readings_hourly.metric = iot_metrics.metric
    left join dim_devices
        on fct_device_readings_hourly.device_id = dim_devices.device_id
    left join underpasses
        on dim_devices.underpass_code = underpasses.underpass_code
    where iot_metrics.alarm_kind is not null

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
        street_code,
        grid_code,
        underpass_code,
        first_delivery_date,
        last_delivery_date

    from alarm_hours
    where
        (alarm_kind = 'flag' and max_value >= 1)
        or (alarm_kind = 'underpass_warning_depth' and max_value >= warning_depth_cm)

)

select * from final
