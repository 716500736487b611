with

source as (

    select * from {{ source('weather', 'weather_hourly') }}

),

final as (

    select
        station_id,
        station_name,
        observed_at,
        temperature_c,
        humidity_pct,
        precipitation_mm,
        wind_speed_ms,
        wind_direction_deg,
        pressure_hpa,
        visibility_km,
        dt as delivery_date,
        _source_file as source_file,
        _source_record as source_record_number

    from source

)

select * from final
