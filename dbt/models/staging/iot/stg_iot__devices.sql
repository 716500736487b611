{{ config(schema='restricted') }}

with

source as (

    select * from {{ source('iot', 'iot_devices') }}

),

final as (

    select
        device_id,
        device_type,
        device_name,
        grid_code,
        street_code,
        longitude,
        latitude,
        install_date,
        status as device_status,
        vendor as vendor_name,
        address,
        resident_name,
        resident_phone,
        resident_id_number,
        road_name,
        underpass_code,
        tags as tags_text,
        dt as delivery_date,
        _source_file as source_file,
        _source_record as source_record_number

    from source

)

select * from final
