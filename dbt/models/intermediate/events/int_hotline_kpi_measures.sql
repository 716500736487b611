{#-
    The 12345 KPIs, one measure per order and KPI, each dated by its own 统计口径 (the
    day the KPI counts the order on) and attributed to a street and a unit. Definitions
    are in README.md (domain.md §4.2 proposals; ❓ where no official text was found).
    An order enters a KPI only once its outcome is decided: a dispatch whose signing limit
    still runs counts neither way.
-#}
with

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

int_hotline_order_repeats as (

    select * from {{ ref('int_hotline_order_repeats') }}

),

data_cutoff as (

    -- The end of the newest delivery day: an order is due once its deadline has passed.
    select cast(max(last_delivery_date) + interval 1 day as timestamp) as data_cutoff_at
    from fct_hotline_orders

),

orders as (

    select
        fct_hotline_orders.*,
        int_hotline_order_repeats.is_repeat_order,
        data_cutoff.data_cutoff_at

    from fct_hotline_orders
    left join int_hotline_order_repeats
        on fct_hotline_orders.order_id = int_hotline_order_repeats.order_id
    cross join data_cutoff

),

measures as (

    -- 及时签收率: signed within the limit / dispatched (by dispatch day).
    select
        order_id,
        'timely_sign_rate' as kpi_code,
        cast(dispatched_at as date) as stat_date,
        street_code,
        handling_unit_code as unit_code,
        cast(is_signed_on_time as integer) as numerator,
        1 as denominator
    from orders
    where is_signed_on_time is not null

    union all

    -- 先行联系率: citizen contacted within the limit after signing / dispatched.
    select
        order_id,
        'first_contact_rate' as kpi_code,
        cast(dispatched_at as date) as stat_date,
        street_code,
        handling_unit_code as unit_code,
        cast(is_first_contact_on_time as integer) as numerator,
        1 as denominator
    from orders
    where is_first_contact_on_time is not null

    union all

    -- 按时办结率: replied by the deadline / due (by deadline day, due by the data cut-off).
    select
        order_id,
        'on_time_reply_rate' as kpi_code,
        cast(deadline_at as date) as stat_date,
        street_code,
        handling_unit_code as unit_code,
        cast(coalesce(replied_at <= deadline_at, false) as integer) as numerator,
        1 as denominator
    from orders
    where deadline_at <= data_cutoff_at

    union all

    -- 实际解决率: confirmed solved at callback / called back (by callback day).
    select
        order_id,
        'actual_resolution_rate' as kpi_code,
        cast(callback_at as date) as stat_date,
        street_code,
        handling_unit_code as unit_code,
        cast(is_resolved_at_callback as integer) as numerator,
        1 as denominator
    from orders
    where callback_at is not null and is_resolved_at_callback is not null

    union all

    -- 满意率: 满意 + 基本满意 / valid callbacks (by callback day).
    select
        order_id,
        'satisfaction_rate' as kpi_code,
        cast(callback_at as date) as stat_date,
        street_code,
        handling_unit_code as unit_code,
        cast(is_satisfied as integer) as numerator,
        1 as denominator
    from orders
    where callback_result is not null

    union all

    -- 重复工单率: repeat orders / all accepted orders (by accepted day).
    select
        order_id,
        'repeat_order_rate' as kpi_code,
        accepted_date as stat_date,
        street_code,
        handling_unit_code as unit_code,
        cast(coalesce(is_repeat_order, false) as integer) as numerator,
        1 as denominator
    from orders

    union all

    -- 退单率: returned / dispatched, charged to the unit first dispatched to (by dispatch day).
    select
        order_id,
        'return_rate' as kpi_code,
        cast(dispatched_at as date) as stat_date,
        street_code,
        initial_unit_code as unit_code,
        cast(is_returned as integer) as numerator,
        1 as denominator
    from orders
    where dispatched_at is not null

    union all

    -- 平均办理时长: working hours from dispatch to reply / replied orders (by reply day).
    select
        order_id,
        'avg_handling_working_hours' as kpi_code,
        cast(replied_at as date) as stat_date,
        street_code,
        handling_unit_code as unit_code,
        handling_working_hours as numerator,
        1 as denominator
    from orders
    where replied_at is not null and dispatched_at is not null

),

final as (

    select * from measures

)

select * from final
