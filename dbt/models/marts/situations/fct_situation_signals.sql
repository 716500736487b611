{#-
    城运态势信号 — what the data says is happening, from every situational source:
    complaint spikes, rainstorm and heat conditions, business-district footfall peaks,
    clusters of device alarms, flooded underpasses and silent water meters of elderly
    people living alone. Thresholds are project rules (💡) set in dbt_project.yml vars or
    documented below; colours follow the 蓝/黄/橙/红 scheme.
-#}
with

fct_complaint_topics_daily as (

    select * from {{ ref('fct_complaint_topics_daily') }}

),

fct_weather_hourly as (

    select * from {{ ref('fct_weather_hourly') }}

),

fct_business_district_flows_hourly as (

    select * from {{ ref('fct_business_district_flows_hourly') }}

),

fct_device_alarms as (

    select * from {{ ref('fct_device_alarms') }}

),

fct_device_readings_hourly as (

    select * from {{ ref('fct_device_readings_hourly') }}

),

dim_devices as (

    select * from {{ ref('dim_devices') }}

),

business_districts as (

    select * from {{ ref('business_districts') }}

),

underpasses as (

    select * from {{ ref('underpasses') }}

),

complaint_spikes as (

    select
        'complaint_spike' as signal_type,
        '诉求激增' as signal_name,
        '黄' as severity,
        cast(stat_date as timestamp) as started_at,
        cast(stat_date + interval 1 day as timestamp) as ended_at,
        cast(null as varchar) as street_code,
        cast(null as varchar) as grid_code,
        topic_code as subject_code,
        topic_name as subject_name,
        cast(order_count as double) as measure_value,
        baseline_daily_orders as baseline_value

    from fct_complaint_topics_daily
    where is_spike

),

rainstorms as (

    select
        'rainstorm' as signal_type,
        '暴雨' as signal_name,
        case max(
            case rainstorm_signal when '红' then 4 when '橙' then 3 when '黄' then 2 else 1 end
        )
            when 4 then '红' when 3 then '橙' when 2 then '黄' else '蓝'
        end as severity,
        min(observed_at) as started_at,
        max(observed_at) + interval 1 hour as ended_at,
        cast(null as varchar) as street_code,
        cast(null as varchar) as grid_code,
        station_id as subject_code,
        any_value(station_name) as subject_name,
        max(precipitation_mm) as measure_value,
        cast(null as double) as baseline_value

    from fct_weather_hourly
    where rainstorm_signal is not null
    group by station_id, observed_date

),

heat as (

    select
        'heat' as signal_type,
        '高温' as signal_name,
        case
            when max(temperature_c) >= 40 then '红'
            when max(temperature_c) >= 37 then '橙'
            else '黄'
        end as severity,
        cast(observed_date as timestamp) as started_at,
        cast(observed_date + interval 1 day as timestamp) as ended_at,
        cast(null as varchar) as street_code,
        cast(null as varchar) as grid_code,
        '310106' as subject_code,
        '静安区' as subject_name,
        max(temperature_c) as measure_value,
        cast(null as double) as baseline_value

    from fct_weather_hourly
    group by observed_date
    having max(temperature_c) >= 35

),

footfall_peaks as (

    -- At least twice the same hour's recent mean (💡 project rule).
    select
        'footfall_peak' as signal_type,
        '商圈客流高峰' as signal_name,
        '黄' as severity,
        min(flows.hour_at) as started_at,
        max(flows.hour_at) + interval 1 hour as ended_at,
        any_value(business_districts.street_code) as street_code,
        cast(null as varchar) as grid_code,
        flows.district_code as subject_code,
        any_value(flows.district_name) as subject_name,
        cast(max(flows.footfall) as double) as measure_value,
        max(flows.baseline_footfall) as baseline_value

    from fct_business_district_flows_hourly as flows
    left join business_districts
        on flows.district_code = business_districts.district_code
    where flows.footfall_ratio >= 2
    group by flows.district_code, flows.flow_date

),

alarm_clusters as (

    -- Three or more devices raising the same alarm in one grid on one day (💡 project rule).
    select
        'alarm_cluster' as signal_type,
        any_value(alarm_name) || '聚集' as signal_name,
        any_value(alarm_severity) as severity,
        min(alarm_at) as started_at,
        max(alarm_at) as ended_at,
        any_value(street_code) as street_code,
        grid_code,
        metric as subject_code,
        any_value(alarm_name) as subject_name,
        cast(count(distinct device_id) as double) as measure_value,
        cast(null as double) as baseline_value

    from fct_device_alarms
    where alarm_name <> '下立交积水超警'
    group by grid_code, metric, alarm_date
    having count(distinct device_id) >= 3

),

flooded_underpasses as (

    select
        'underpass_flooding' as signal_type,
        '下立交积水' as signal_name,
        any_value(alarms.alarm_severity) as severity,
        min(alarms.alarm_at) as started_at,
        max(alarms.hour_at) + interval 1 hour as ended_at,
        any_value(alarms.street_code) as street_code,
        any_value(alarms.grid_code) as grid_code,
        alarms.underpass_code as subject_code,
        any_value(underpasses.underpass_name) as subject_name,
        max(alarms.peak_value) as measure_value,
        any_value(alarms.threshold_value) as baseline_value

    from fct_device_alarms as alarms
    left join underpasses
        on alarms.underpass_code = underpasses.underpass_code
    where alarms.underpass_code is not null
    group by alarms.underpass_code, alarms.alarm_date

),

meter_hours as (

    select
        device_id,
        hour_at,
        -- Consecutive zero-flow hours share a group number (gaps and islands).
        epoch(hour_at) // 3600
        - row_number() over (partition by device_id order by hour_at) as silence_group

    from fct_device_readings_hourly
    where metric = 'water_flow_l' and sum_value = 0

),

silent_meters as (

    select
        'silent_water_meter' as signal_type,
        '独居老人水表静默' as signal_name,
        '红' as severity,
        min(meter_hours.hour_at) as started_at,
        max(meter_hours.hour_at) + interval 1 hour as ended_at,
        any_value(dim_devices.street_code) as street_code,
        any_value(dim_devices.grid_code) as grid_code,
        meter_hours.device_id as subject_code,
        any_value(dim_devices.device_type_name) as subject_name,
        cast(count(*) as double) as measure_value,
        cast({{ var('silent_meter_hours') }} as double) as baseline_value

    from meter_hours
    left join dim_devices
        on meter_hours.device_id = dim_devices.device_id
    group by meter_hours.device_id, meter_hours.silence_group
    having count(*) >= {{ var('silent_meter_hours') }}

),

unioned as (

    select * from complaint_spikes
    union all
    select * from rainstorms
    union all
    select * from heat
    union all
    select * from footfall_peaks
    union all
    select * from alarm_clusters
    union all
    select * from flooded_underpasses
    union all
    select * from silent_meters

),

final as (

    select
        signal_type || '|' || subject_code || '|' || coalesce(grid_code, '-') || '|'
        || strftime(started_at, '%Y-%m-%dT%H:%M') as signal_id,
        signal_type,
        signal_name,
        severity,
        started_at,
        ended_at,
        cast(started_at as date) as signal_date,
        street_code,
        grid_code,
        subject_code,
        subject_name,
        measure_value,
        baseline_value

    from unioned

)

select * from final
