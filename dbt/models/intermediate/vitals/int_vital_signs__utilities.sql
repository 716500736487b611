{#-
    城市生命线 vital signs: ponding depth at underpasses (hourly, down to the grid), and daily
    reports of water, power and gas outages, manhole covers and drainage.
-#}
with

fct_device_readings_hourly as (

    select * from {{ ref('fct_device_readings_hourly') }}

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

    select
        sensors.*,
        periods.period_start as hour_at,
        readings.max_value as depth_cm
    from sensors
    cross join int_vital_periods as periods
    left join fct_device_readings_hourly as readings
        on
            sensors.device_id = readings.device_id
            and periods.period_start = readings.hour_at
            and readings.metric = 'ponding_depth_cm'
    where periods.grain = 'hour'

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
        arg_max(underpass_name, depth_cm) as detail
    from sensor_areas
    group by area_level, area_code, hour_at

),

hotline_reports as (

    select
        matter_code,
        street_code,
        grid_code,
        accepted_date as report_date
    from fct_hotline_orders
    where matter_code in ('060101', '060102', '060103', '030102', '030103')

),

water_outages as (

    select * from hotline_reports
    where matter_code = '060101'

),

power_outages as (

    select * from hotline_reports
    where matter_code = '060102'

),

gas_reports as (

    select * from hotline_reports
    where matter_code = '060103'

),

manhole_cases as (

    select
        street_code,
        grid_code,
        discovered_date as report_date
    from fct_grid_cases
    where case_type = '部件' and subcategory_code in ('0101', '0103') and not is_cancelled

),

drainage_reports as (

    select
        street_code,
        grid_code,
        report_date
    from hotline_reports
    where matter_code in ('030102', '030103')
    union all
    select
        street_code,
        grid_code,
        discovered_date as report_date
    from fct_grid_cases
    where case_type = '事件' and subcategory_code = '0401' and not is_cancelled

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
