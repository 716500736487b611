{#-
    Repeats among 12345 orders, two ways (both within `repeat_window_days` before the order;
    anonymous orders, without a phone number, never repeat):
      重复来电 (repeat call): the same caller (keyed phone hash) called before, any matter;
      重复工单 (repeat order): the same caller raised the same matter about the same building
        — domain.md §4.2 proposal (normalised address + issue type + caller, N = 30); ❓ no
        official Shanghai definition.
-#}
with

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

previous_orders as (

    select
        order_id,
        lag(accepted_at) over same_caller as previous_call_at,
        lag(order_id) over same_issue as previous_order_id,
        lag(accepted_at) over same_issue as previous_order_at

    from fct_hotline_orders
    where caller_key is not null
    window
        same_caller as (partition by caller_key order by accepted_at, order_id),
        same_issue as (
            partition by caller_key, matter_code, address_key order by accepted_at, order_id
        )

),

final as (

    select
        fct_hotline_orders.order_id,
        fct_hotline_orders.caller_key,
        fct_hotline_orders.accepted_at,
        previous_orders.previous_call_at,
        coalesce(
            previous_orders.previous_call_at
            >= fct_hotline_orders.accepted_at - to_days({{ var('repeat_window_days') }}),
            false
        ) as is_repeat_call,
        previous_orders.previous_order_id,
        previous_orders.previous_order_at,
        round(
            date_diff('minute', previous_orders.previous_order_at, fct_hotline_orders.accepted_at)
            / 1440.0,
            2
        ) as days_since_previous_order,
        coalesce(
            previous_orders.previous_order_at
            >= fct_hotline_orders.accepted_at - to_days({{ var('repeat_window_days') }}),
            false
        ) as is_repeat_order

    from fct_hotline_orders
    left join previous_orders
        on fct_hotline_orders.order_id = previous_orders.order_id

)

select * from final
