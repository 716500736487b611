{#-
    安全 vital signs: e-bike charger overcurrent and smoke alarms (devices in alarm per hour,
    down to the grid), elevator entrapments (per day) from the IoT alarms, and fire-hazard
    reports from 12345 and the grid (daily).
-#}
with

fct_device_alarms as (

    select * from {{ ref('fct_device_alarms') }}

),

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

fct_grid_cases as (

    select * from {{ ref('fct_grid_cases') }}

),

alarms as (

    select
        metric,
        device_id,
        street_code,
        grid_code,
        hour_at,
        alarm_date
    from fct_device_alarms
    where metric in ('overcurrent_alarm', 'smoke_alarm', 'elevator_entrapment')

),

alarm_areas as (

    {{ fan_out_to_areas('alarms', ['street', 'grid']) }}

),

hour_spine as (

    {{ vital_spine('hour', ['street', 'grid']) }}

),

hourly_alarms as (

    select
        case alarm_areas.metric
            when 'overcurrent_alarm' then 'SAF_EBIKE_ALARMS'
            else 'SAF_SMOKE_ALARMS'
        end as indicator_code,
        alarm_areas.area_level,
        alarm_areas.area_code,
        alarm_areas.hour_at as period_start,
        count(distinct alarm_areas.device_id) as device_count,
        string_agg(distinct alarm_areas.device_id, ',' order by alarm_areas.device_id) as devices
    from alarm_areas
    where alarm_areas.metric in ('overcurrent_alarm', 'smoke_alarm')
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
        hourly_alarms.devices as detail
    from hour_spine
    cross join (values ('SAF_EBIKE_ALARMS'), ('SAF_SMOKE_ALARMS')) as codes (indicator_code)
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
        alarm_date as report_date
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
