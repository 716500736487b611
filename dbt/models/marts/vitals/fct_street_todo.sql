{#-
    街镇待办: what each street team must do now, as of the data's newest period — its open
    吹哨 orders (escalated and overdue first, then by remaining time), its open warnings (橙
    and 红 first), and its grids' cases discovered in the last 24 hours and not yet closed.
    A street with nothing to do has one row saying so (本街镇当前无待办), so the street desk
    shows a clear empty state instead of an empty table. Grain: one row per item (or per
    street without items).
-#}
with

fct_whistle_orders as (

    select * from {{ ref('fct_whistle_orders') }}

),

fct_warning_events as (

    select * from {{ ref('fct_warning_events') }}

),

fct_grid_cases as (

    select * from {{ ref('fct_grid_cases') }}

),

dim_streets as (

    select * from {{ ref('dim_streets') }}

),

as_of as (

    select max(as_of_at) as as_of_at
    from fct_warning_events

),

orders as (

    select
        '吹哨工单' as item_type,
        orders.whistle_order_id as item_id,
        orders.street_code,
        orders.grid_code,
        orders.indicator_name || '：' || orders.area_name as title,
        orders.opened_level as level,
        orders.status,
        orders.handling_unit_name,
        orders.responsible_unit_name,
        orders.opened_at as started_at,
        case when orders.received_at is null then orders.receive_due_at else orders.due_at end
            as due_at,
        orders.is_escalated,
        orders.escalation_reason,
        case
            when orders.is_escalated then 1
            when orders.is_overdue then 2
            else 3
        end as urgency_rank
    from fct_whistle_orders as orders
    where orders.is_open

),

warnings as (

    select
        '预警' as item_type,
        events.warning_id as item_id,
        events.street_code,
        case when events.area_level = 'grid' then events.area_code end as grid_code,
        events.indicator_name || '：' || events.area_name as title,
        events.last_level as level,
        case
            when events.last_level >= 1 then events.last_level_name || '色预警中'
            else '待解除'
        end as status,
        cast(null as varchar) as handling_unit_name,
        cast(null as varchar) as responsible_unit_name,
        events.opened_at as started_at,
        cast(null as timestamp) as due_at,
        false as is_escalated,
        cast(null as varchar) as escalation_reason,
        case when events.last_level >= 3 then 4 else 5 end as urgency_rank
    from fct_warning_events as events
    where events.is_open and events.street_code is not null

),

new_cases as (

    select
        '网格案件' as item_type,
        cases.case_id as item_id,
        cases.street_code,
        cases.grid_code,
        cases.subcategory_name || '（' || cases.case_type || '）' as title,
        cast(null as integer) as level,
        cases.lifecycle_stage as status,
        cast(null as varchar) as handling_unit_name,
        cast(null as varchar) as responsible_unit_name,
        cases.discovered_at as started_at,
        cases.deadline_at as due_at,
        false as is_escalated,
        cast(null as varchar) as escalation_reason,
        case when cases.is_overdue then 2 else 6 end as urgency_rank
    from fct_grid_cases as cases
    cross join as_of
    where
        cases.discovered_at >= as_of.as_of_at - interval 24 hour
        and cases.closed_at is null
        and not cases.is_cancelled

),

items as (

    select * from orders
    union all
    select * from warnings
    union all
    select * from new_cases

),

idle_streets as (

    select
        '无待办' as item_type,
        'none-' || dim_streets.street_code as item_id,
        dim_streets.street_code,
        cast(null as varchar) as grid_code,
        '本街镇当前无待办' as title,
        cast(null as integer) as level,
        '无待办' as status,
        cast(null as varchar) as handling_unit_name,
        cast(null as varchar) as responsible_unit_name,
        cast(null as timestamp) as started_at,
        cast(null as timestamp) as due_at,
        false as is_escalated,
        cast(null as varchar) as escalation_reason,
        9 as urgency_rank
    from dim_streets
    where dim_streets.street_code not in (select items.street_code from items)

),

final as (

    select
        todo.*,
        dim_streets.street_name,
        round(epoch(todo.due_at - as_of.as_of_at) / 3600, 1) as remaining_hours,
        as_of.as_of_at
    from (
        select * from items
        union all
        select * from idle_streets
    ) as todo
    cross join as_of
    inner join dim_streets
        on todo.street_code = dim_streets.street_code

)

select * from final
