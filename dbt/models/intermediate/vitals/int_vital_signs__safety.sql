{#-
    安全 vital signs from the IoT alarms, per hour down to the grid: e-bike chargers in
    overcurrent alarm, smoke detectors in alarm, confirmed fires, entrapped elevators and gas
    detectors in alarm; per
    day and street: elevator entrapments, and fire-hazard reports from 12345 and the grid.

    A smoke alarm is a confirmed fire (SAF_FIRE_CONFIRMED) when a second signal agrees (烟温
    复合): the detector's temperature rose by 2 °C or more over the hour before, or another
    detector of the same grid alarmed in the same hour. A lone alarm without either is most
    often steam or dust, and stays a count in SAF_SMOKE_ALARMS.

    `event_times` holds, per hour, each device's first alarm time in order, so the warning
    can carry the time of the alarm that raised it.
-#}
with

fct_device_alarms as (

    select * from {{ ref('fct_device_alarms') }}
    where {{ periods_from('hour_at') }}

),

fct_device_readings_hourly as (

    -- The hour before the first period: a smoke alarm's temperature rise.
    select * from {{ ref('fct_device_readings_hourly') }}
    where {{ periods_from('hour_at', 1) }}

),

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

fct_grid_cases as (

    select * from {{ ref('fct_grid_cases') }}

),

detector_temperatures as (

    select
        device_id,
        hour_at,
        avg_value as temperature_c
    from fct_device_readings_hourly
    where metric = 'temperature_c'

),

smoke_alarms as (

    select
        smoke.device_id,
        smoke.hour_at,
        coalesce(now_hour.temperature_c - hour_before.temperature_c >= 2, false)
        or count(distinct smoke.device_id) over (partition by smoke.grid_code, smoke.hour_at) >= 2
            as is_confirmed
    from fct_device_alarms as smoke
    left join detector_temperatures as now_hour
        on smoke.device_id = now_hour.device_id and smoke.hour_at = now_hour.hour_at
    left join detector_temperatures as hour_before
        on
            smoke.device_id = hour_before.device_id
            and smoke.hour_at - interval 1 hour = hour_before.hour_at
    where smoke.metric = 'smoke_alarm'

),

alarms as (

    select
        fct_device_alarms.metric,
        fct_device_alarms.device_id,
        fct_device_alarms.street_code,
        fct_device_alarms.grid_code,
        fct_device_alarms.hour_at,
        fct_device_alarms.alarm_at,
        fct_device_alarms.alarm_date,
        case fct_device_alarms.metric
            when 'overcurrent_alarm' then ['SAF_EBIKE_ALARMS']
            when 'smoke_alarm'
                then
                    case
                        when smoke_alarms.is_confirmed then ['SAF_SMOKE_ALARMS', 'SAF_FIRE_CONFIRMED']
                        else ['SAF_SMOKE_ALARMS']
                    end
            when 'gas_alarm' then ['SAF_GAS_ALARM']
            else ['SAF_ELEVATOR_TRAPPED']
        end as hourly_indicators
    from fct_device_alarms
    left join smoke_alarms
        on
            fct_device_alarms.metric = 'smoke_alarm'
            and fct_device_alarms.device_id = smoke_alarms.device_id
            and fct_device_alarms.hour_at = smoke_alarms.hour_at
    where fct_device_alarms.metric in ('overcurrent_alarm', 'smoke_alarm', 'elevator_entrapment', 'gas_alarm')

),

alarm_areas as (

    {{ fan_out_to_areas('alarms', ['street', 'grid']) }}

),

hour_spine as (

    {{ vital_spine('hour', ['street', 'grid']) }}

),

device_hours as (

    -- Each device once per indicator, area and hour, at its first alarm.
    select
        unnest(hourly_indicators) as indicator_code,
        area_level,
        area_code,
        hour_at as period_start,
        device_id,
        alarm_at
    from alarm_areas

),

hourly_alarms as (

    select
        indicator_code,
        area_level,
        area_code,
        period_start,
        count(*) as device_count,
        string_agg(device_id, ',' order by device_id) as devices,
        list(first_alarm_at order by first_alarm_at) as event_times
    from (
        select
            indicator_code,
            area_level,
            area_code,
            period_start,
            device_id,
            min(alarm_at) as first_alarm_at
        from device_hours
        group by all
    ) as devices
    group by all

),

hourly as (

    select
        codes.indicator_code,
        hour_spine.area_level,
        hour_spine.area_code,
        '-' as subject_code,
        hour_spine.period_start,
        cast(coalesce(hourly_alarms.device_count, 0) as double) as value,
        hourly_alarms.devices as detail,
        hourly_alarms.event_times
    from hour_spine
    cross join (
        values
        ('SAF_EBIKE_ALARMS'),
        ('SAF_SMOKE_ALARMS'),
        ('SAF_FIRE_CONFIRMED'),
        ('SAF_ELEVATOR_TRAPPED'),
        ('SAF_GAS_ALARM')
    ) as codes (indicator_code)
    left join hourly_alarms
        on
            codes.indicator_code = hourly_alarms.indicator_code
            and hour_spine.area_level = hourly_alarms.area_level
            and hour_spine.area_code = hourly_alarms.area_code
            and hour_spine.period_start = hourly_alarms.period_start

),

entrapments as (

    select
        street_code,
        grid_code,
        alarm_date as report_date,
        alarm_at as report_at
    from alarms
    where metric = 'elevator_entrapment'

),

fire_hazard_reports as (

    {{ hotline_reports(['090101']) }}
    union all
    {{ grid_case_reports('事件', ['0602']) }}
    union all
    {{ grid_case_reports('部件', ['0110']) }}

),

final as (

    select * from hourly
    union all
    {{ daily_report_counts('SAF_ELEVATOR_ENTRAPMENTS', 'entrapments', ['district', 'street']) }}
    union all
    {{ daily_report_counts('SAF_FIRE_HAZARD_REPORTS', 'fire_hazard_reports', ['district', 'street']) }}

)

select * from final
