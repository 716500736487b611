with

source as (

    select * from {{ source('disposal', 'whistle_feedback') }}

),

final as (

    select
        feedback_id,
        whistle_order_id,
        event_type,
        event_at,
        unit_code,
        unit_name,
        note,
        return_reason,
        dt as delivery_date,
        _source_file as source_file,
        _source_record as source_record_number

    from source

)

select * from final
