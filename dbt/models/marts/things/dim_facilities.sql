with

underpasses as (

    select * from {{ ref('underpasses') }}

),

wet_markets as (

    select * from {{ ref('wet_markets') }}

),

dim_devices as (

    select * from {{ ref('dim_devices') }}

),

underpass_sensors as (

    select
        underpass_code,
        count(*) as sensor_count

    from dim_devices
    where underpass_code is not null
    group by underpass_code

),

final as (

    select
        underpasses.underpass_code as facility_code,
        '下立交' as facility_type,
        underpasses.underpass_name as facility_name,
        underpasses.street_code,
        underpasses.grid_code,
        underpasses.warning_depth_cm,
        coalesce(underpass_sensors.sensor_count, 0) as sensor_count

    from underpasses
    left join underpass_sensors
        on underpasses.underpass_code = underpass_sensors.underpass_code

    union all

    select
        market_code as facility_code,
        '标准化菜场' as facility_type,
        market_name as facility_name,
        street_code,
        cast(null as varchar) as grid_code,
        cast(null as double) as warning_depth_cm,
        0 as sensor_count

    from wet_markets

)

select * from final
