with

source as (

    select * from {{ source('iot', 'iot_readings') }}

),

final as (

    select
        device_id,
        metric,
        value as reading_value,
        reading_at,
        dt as delivery_date,
        _source_file as source_file,
        _source_record as source_record_number

    from source

)

select * from final
