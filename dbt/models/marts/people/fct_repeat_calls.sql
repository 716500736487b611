with

int_hotline_order_repeats as (

    select * from {{ ref('int_hotline_order_repeats') }}

),

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

final as (

    select
        int_hotline_order_repeats.order_id,
        int_hotline_order_repeats.caller_key,
        int_hotline_order_repeats.accepted_at,
        fct_hotline_orders.accepted_date,
        int_hotline_order_repeats.previous_call_at,
        round(
            date_diff(
                'minute',
                int_hotline_order_repeats.previous_call_at,
                int_hotline_order_repeats.accepted_at
            ) / 1440.0,
            2
        ) as days_since_previous_call,
        int_hotline_order_repeats.is_repeat_order,
        int_hotline_order_repeats.previous_order_id,
        fct_hotline_orders.matter_code,
        fct_hotline_orders.matter_category,
        fct_hotline_orders.matter_subcategory,
        fct_hotline_orders.street_code,
        fct_hotline_orders.grid_code,
        fct_hotline_orders.handling_unit_code

    from int_hotline_order_repeats
    inner join fct_hotline_orders
        on int_hotline_order_repeats.order_id = fct_hotline_orders.order_id
    where int_hotline_order_repeats.is_repeat_call

)

select * from final
