{{ config(schema='restricted') }}

with

source as (

    select * from {{ source('hotline', 'hotline_orders') }}

),

final as (

    select
        order_id,
        accepted_at,
        channel,
        request_type,
        matter_code,
        matter_name,
        content,
        caller_name,
        caller_phone,
        address,
        street_name,
        status as order_status,
        dispatched_at,
        handling_unit as handling_unit_name,
        signed_at,
        first_contact_at,
        return_count,
        returned_at,
        return_reason,
        redispatched_at,
        deadline_at as source_deadline_at,
        replied_at,
        is_resolved as is_resolved_by_unit,
        callback_at,
        callback_result,
        callback_resolved as is_resolved_at_callback,
        merged_into_order_id,
        updated_at,
        dt as delivery_date,
        _source_file as source_file,
        _source_record as source_record_number

    from source

)

select * from final
