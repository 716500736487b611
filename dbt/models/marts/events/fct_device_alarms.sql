{#-
    Device alarms from the hourly readings: an alarm flag at 1 (烟感, 充电过流, 电梯故障,
    电梯困人) or a ponding depth at or above its underpass's warning depth.

    Incremental. A build first deletes the alarms of every hour the build's deliveries
    touched (the pre-hook), then inserts what those hours say now, so an alarm that a
    corrected reading withdraws disappears as well.
-#}
{{
    config(
        materialized='incremental',
        unique_key='alarm_id',
        incremental_strategy='delete+insert',
        pre_hook="
            {% if is_incremental() %}
            delete from {{ this }}
            where (device_id, metric, hour_at) in (
                select (device_id, metric, hour_at)
                from {{ ref('fct_device_readings_hourly') }}
                where {{ touched_by_window('last_delivery_date') }}
            )
            {% endif %}
        ",
    )
}}

with

fct_device_readings_hourly as (

    select * from {{ ref('fct_device_readings_hourly') }}

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
    where
        iot_metrics.alarm_kind is not null
        {% if is_incremental() %}
            and {{ touched_by_window('fct_device_readings_hourly.last_delivery_date') }}
        {% endif %}

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
        last_delivery_date

    from alarm_hours
    where
        (alarm_kind = 'flag' and max_value >= 1)
        or (alarm_kind = 'underpass_warning_depth' and max_value >= warning_depth_cm)

)

select * from final
