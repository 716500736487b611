-- The working-day calendar covers every order's dispatch day and its deadline: a missing
-- year would silently leave deadlines empty. Re-run scripts/build_calendar.py when it fails.
with

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

)

select
    order_id,
    dispatched_at,
    deadline_at
from fct_hotline_orders
where dispatched_at is not null and deadline_at is null
