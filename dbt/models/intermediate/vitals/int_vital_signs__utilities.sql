{#-
    城市生命线 vital signs: ponding depth at underpasses (hourly, down to the grid), and daily
    reports of water, power and gas outages, manhole covers and drainage.
-#}
with

fct_device_readings_hourly as (

    -- The live path measures a bounded span (periods_from).
    select * from {{ ref('fct_device_readings_hourly') }}
    where {{ periods_from('hour_at') }}

),

dim_devices as (

    select * from {{ ref('dim_devices') }}

),

underpasses as (

    select * from {{ ref('underpasses') }}

),

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

fct_grid_cases as (

    select * from {{ ref('fct_grid_cases') }}

),

int_vital_periods as (

    select * from {{ ref('int_vital_periods') }}

),

sensors as (

    select
        devices.device_id,
        underpasses.underpass_name,
        underpasses.street_code,
        underpasses.grid_code
    from dim_devices as devices
    inner join underpasses
        on devices.underpass_code = underpasses.underpass_code
    where devices.device_type = 'ponding_sensor'

),

sensor_hours as (

    {{ device_hour_series('sensors', 'ponding_depth_cm', 'max_value', 'depth_cm') }}

),

sensor_areas as (

    {{ fan_out_to_areas('sensor_hours', ['district', 'street', 'grid']) }}

),

ponding as (

    select
        'UTI_PONDING_DEPTH' as indicator_code,
        area_level,
        area_code,
        '-' as subject_code,
        hour_at as period_start,
        max(depth_cm) as value,
        -- The deepest underpass; none named while all are dry.
        case when max(depth_cm) > 0 then {{ arg_max_stable('underpass_name', 'depth_cm', 'underpass_name') }} end
            as detail,
        cast(null as timestamp[]) as event_times
    from sensor_areas
    group by area_level, area_code, hour_at

),

water_outages as (

    {{ hotline_reports(['060101']) }}

),

power_outages as (

    {{ hotline_reports(['060102']) }}

),

gas_reports as (

    {{ hotline_reports(['060103']) }}

),

manhole_cases as (

    {{ grid_case_reports('部件', ['0101', '0103']) }}

),

drainage_reports as (

    {{ hotline_reports(['030102', '030103']) }}
    union all
    {{ grid_case_reports('事件', ['0401']) }}

),

final as (

    select * from ponding
    union all
    {{ daily_report_counts('UTI_WATER_OUTAGE_REPORTS', 'water_outages', ['district', 'street']) }}
    union all
    {{ daily_report_counts('UTI_POWER_OUTAGE_REPORTS', 'power_outages', ['district', 'street']) }}
    union all
    {{ daily_report_counts('UTI_GAS_REPORTS', 'gas_reports', ['district', 'street']) }}
    union all
    {{ daily_report_counts('UTI_MANHOLE_CASES', 'manhole_cases', ['district', 'street']) }}
    union all
    {{ daily_report_counts('UTI_DRAINAGE_REPORTS', 'drainage_reports', ['district', 'street']) }}

)

select * from final
