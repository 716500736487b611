{#-
    Every delivered version of every order, pseudonymised. Incremental by delivery day
    (strategy `delivery_window`, macros/delivery_window.sql): a build replaces every version of
    the window's delivery days, so a re-ingested day with fewer rows, or none, leaves nothing
    stale behind.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delivery_window',
        unique_key='delivery_date',
        delivery_span=['delivery_date', 'delivery_date'],
    )
}}

with

stg_hotline__orders as (

    select * from {{ ref('stg_hotline__orders') }}

),

streets as (

    select * from {{ ref('streets') }}

),

delivered as (

    select
        stg_hotline__orders.*,
        streets.street_code,
        -- Every text the source sends is scrubbed (quality/pii.py), the caller's own name
        -- included wherever the citizen's words repeat it: one phone number in a 退单原因
        -- must never reach the serving snapshot, nor stop its publication.
        {{ scrub_free_text('stg_hotline__orders.content', 'stg_hotline__orders.caller_name') }}
            as content_scrubbed

    from stg_hotline__orders
    left join streets
        on stg_hotline__orders.street_name = streets.street_name
    {% if is_incremental() %}
        where {{ in_delivery_window('stg_hotline__orders.delivery_date') }}
    {% endif %}

),

located as (

    {{ locate_addresses('delivered', ['order_id', 'delivery_date']) }}

),

final as (

    select
        delivered.order_id,
        delivered.delivery_date,
        delivered.accepted_at,
        delivered.channel,
        delivered.request_type,
        delivered.matter_code,
        {{ scrub_free_text('delivered.matter_name') }} as matter_name,
        delivered.content_scrubbed,
        -- What the scrubber found (the placeholder it left), not a second search.
        contains(delivered.content_scrubbed, '[手机号]') as has_phone_in_content,
        contains(delivered.content_scrubbed, '[身份证号]') as has_id_number_in_content,
        {{ pii_hash(phone_digits('delivered.caller_phone'), 'phone') }} as caller_key,
        {{ mask_phone('delivered.caller_phone') }} as caller_phone_masked,
        {{ phone_kind('delivered.caller_phone') }} as caller_phone_kind,
        {{ mask_name('delivered.caller_name') }} as caller_name_masked,
        {{ mask_address('delivered.address') }} as address_masked,
        -- The building, not the flat: a re-send that only adds the 室 keeps the same key.
        {{ pii_hash("regexp_replace(delivered.address, '[0-9]+室$', '')", 'address') }} as address_key,
        delivered.street_name,
        delivered.street_code,
        located.road_name,
        located.cross_road_name,
        located.grid_code,
        located.grid_match_method,
        delivered.order_status,
        delivered.dispatched_at,
        {{ scrub_free_text('delivered.handling_unit_name') }} as handling_unit_name,
        delivered.signed_at,
        delivered.first_contact_at,
        delivered.return_count,
        delivered.returned_at,
        {{ scrub_free_text('delivered.return_reason', 'delivered.caller_name') }} as return_reason,
        delivered.redispatched_at,
        delivered.source_deadline_at,
        delivered.replied_at,
        delivered.is_resolved_by_unit,
        delivered.callback_at,
        delivered.callback_result,
        delivered.is_resolved_at_callback,
        delivered.merged_into_order_id,
        delivered.updated_at,
        delivered.source_file,
        delivered.source_record_number

    from delivered
    left join located
        on
            delivered.order_id = located.order_id
            and delivered.delivery_date = located.delivery_date

)

select * from final
