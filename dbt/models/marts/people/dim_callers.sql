with

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

int_hotline_order_repeats as (

    select * from {{ ref('int_hotline_order_repeats') }}

),

orders as (

    select
        fct_hotline_orders.*,
        int_hotline_order_repeats.is_repeat_call,
        int_hotline_order_repeats.is_repeat_order

    from fct_hotline_orders
    inner join int_hotline_order_repeats
        on fct_hotline_orders.order_id = int_hotline_order_repeats.order_id
    where fct_hotline_orders.caller_key is not null

),

final as (

    select
        caller_key,
        -- The masked number and name of the newest order that has them (display only):
        -- arg_max skips nulls, so an anonymous newest order keeps the last known name.
        arg_max(caller_phone_masked, accepted_at) as caller_phone_masked,
        arg_max(caller_phone_kind, accepted_at) as caller_phone_kind,
        arg_max(caller_name_masked, accepted_at) as caller_name_masked,
        min(accepted_at) as first_called_at,
        max(accepted_at) as last_called_at,
        count(*) as order_count,
        count(*) filter (where is_repeat_call) as repeat_call_count,
        count(*) filter (where is_repeat_order) as repeat_order_count,
        count(distinct matter_code) as matter_count,
        count(distinct street_code) as street_count,
        -- The newest located order's street (orders without a street are skipped).
        arg_max(street_code, accepted_at) as latest_street_code,
        count(*) filter (where is_repeat_call) > 0 as is_repeat_caller

    from orders
    group by caller_key

)

select * from final
