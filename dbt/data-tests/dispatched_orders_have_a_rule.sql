-- Every dispatched order was evaluated against the dispatch rule in force on its dispatch day.
with

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

)

select
    order_id,
    matter_code,
    dispatched_at
from fct_hotline_orders
where dispatched_at is not null and dispatch_rule_id is null
