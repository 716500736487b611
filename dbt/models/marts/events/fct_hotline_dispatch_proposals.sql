{#-
    自动化派单建议: for every 12345 order, the unit and deadline the 派单字典
    proposes from its matter and street, beside what its first dispatch actually did.

    - The proposal: the rule of the order's matter in force on the day of `proposal_basis_at`
      (macros/dispatch.sql), S00 resolved to the order's street office. `proposal_basis_at` is
      the first dispatch, since the dictionary counts its time limit from the dispatch, and
      the acceptance while the order waits for one: the proposed deadline is then the one a
      dispatch at once would get. The deadline keeps the clock time (macros/working_days.sql).
    - The first dispatch: the earliest delivered version that carries a dispatch time. The
      feed sends an order's state at the end of each day it changed, so when 退单 and 改派
      follow on the dispatch day, the first version already names the new unit (its 改派时间
      is set): the first unit and its deadline are then unknown, never read from the
      re-dispatch. `dispatched_at` itself is kept on 改派, so the first dispatch time is known.
    - `unit_agrees` compares unit codes (the source's unit names through dim_departments,
      whose street offices carry the street's name). `deadline_agrees` compares the day of
      the proposed deadline with the day of the source's 办理时限 at the first dispatch: the
      rule is counted in working days, and the clock time of a deadline is a system's own
      convention. Not with fct_hotline_orders.deadline_at: that is computed by this same rule
      and reset on 改派, so agreeing with it would prove nothing.

    Incremental like fct_hotline_orders (strategy `delivery_window`, slice key order_id): a
    build re-derives, from all their versions, the orders whose delivery span overlaps the
    window, as fct_hotline_orders holds them after its own build, and the orders the table
    holds from the window; an order a re-send withdrew is deleted. Nothing here moves with
    the data cut-off, so no row is rebuilt on every build.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delivery_window',
        unique_key='order_id',
    )
}}

with

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

int_hotline_order_versions as (

    select * from {{ ref('int_hotline_order_versions') }}

),

dispatch_rules as (

    select * from {{ ref('dispatch_rules') }}

),

dim_departments as (

    select * from {{ ref('dim_departments') }}

),

orders as (

    -- A build's slice: the orders whose delivered versions span its window (the facts have
    -- just re-derived them), and the orders the table holds from it; an order the facts no
    -- longer hold (withdrawn) is deleted, not inserted again.
    select *
    from fct_hotline_orders
    {% if is_incremental() %}
        where
            {{ delivery_span_in_window('first_delivery_date', 'last_delivery_date') }}
            or order_id in ({{ window_slice('order_id') }})
    {% endif %}

),

first_dispatches as (

    -- Of two copies of the same state, the newest delivered (a corrected re-send) counts.
    select
        order_id,
        dispatched_at as first_dispatched_at,
        redispatched_at is not null as is_redispatched_when_first_delivered,
        handling_unit_name,
        source_deadline_at

    from int_hotline_order_versions
    where
        dispatched_at is not null
        {% if is_incremental() %}
            and order_id in (select orders.order_id from orders)
        {% endif %}
    qualify row_number() over (
            partition by order_id
            order by updated_at asc, delivery_date desc, source_file desc, source_record_number desc
        ) = 1

),

dictionary_matters as (

    select distinct matter_code
    from dispatch_rules

),

proposals as (

    select
        orders.order_id,
        orders.accepted_at,
        orders.street_code,
        orders.grid_code,
        orders.matter_code,
        orders.matter_category,
        orders.matter_subcategory,
        orders.order_status,
        orders.is_closed,
        orders.return_count,
        orders.handling_unit_code,
        orders.first_delivery_date,
        orders.last_delivery_date,
        first_dispatches.first_dispatched_at,
        coalesce(first_dispatches.first_dispatched_at, orders.accepted_at) as proposal_basis_at,
        dispatch_rules.rule_id as dispatch_rule_id,
        dispatch_rules.dispatch_level,
        dispatch_rules.time_limit_workdays,
        {{ dispatch_unit_code('dispatch_rules.primary_unit_code', 'orders.street_code') }}
            as proposed_unit_code,
        -- A 属地 (S00) rule without the order's street proposes no unit, but a deadline.
        case
            when dictionary_matters.matter_code is null then '派单字典无此诉求分类'
            when dispatch_rules.rule_id is null then '当日无生效规则'
            when dispatch_rules.primary_unit_code = 'S00' and orders.street_code is null
                then '属地派单缺街镇'
        end as no_proposal_reason,
        -- The unit and deadline of the first version only while it shows the first dispatch.
        case
            when not first_dispatches.is_redispatched_when_first_delivered
                then first_dispatches.handling_unit_name
        end as first_unit_name,
        case
            when not first_dispatches.is_redispatched_when_first_delivered
                then first_dispatches.source_deadline_at
        end as first_deadline_at

    from orders
    left join first_dispatches
        on orders.order_id = first_dispatches.order_id
    left join dictionary_matters
        on orders.matter_code = dictionary_matters.matter_code
    left join dispatch_rules
        on {{ dispatch_rule_in_force(
            'dispatch_rules',
            'orders.matter_code',
            'coalesce(first_dispatches.first_dispatched_at, orders.accepted_at)',
        ) }}

),

units as (

    select
        proposals.*,
        proposed_units.department_name as proposed_unit_name,
        first_units.department_code as first_unit_code,
        {{ add_working_days('proposals.proposal_basis_at', 'proposals.time_limit_workdays') }}
            as proposed_deadline_at

    from proposals
    left join dim_departments as proposed_units
        on proposals.proposed_unit_code = proposed_units.department_code
    left join dim_departments as first_units
        on proposals.first_unit_name = first_units.department_name

),

compared as (

    select
        *,
        case
            when no_proposal_reason is not null then '无派单建议'
            when first_dispatched_at is null and is_closed then '无需派单'
            when first_dispatched_at is null then '未派单'
            when first_unit_code is null then '首派单位不明'
            when first_unit_code = proposed_unit_code then '一致'
            else '不一致'
        end as agreement_status,
        case
            when first_dispatched_at is not null
                then cast(proposed_deadline_at as date) = cast(first_deadline_at as date)
        end as deadline_agrees

    from units

),

final as (

    select
        order_id,
        accepted_at,
        street_code,
        grid_code,
        matter_code,
        matter_category,
        matter_subcategory,
        order_status,
        proposal_basis_at,
        dispatch_rule_id,
        dispatch_level,
        time_limit_workdays,
        proposed_unit_code,
        proposed_unit_name,
        proposed_deadline_at,
        proposed_unit_code is not null as has_proposal,
        no_proposal_reason,
        first_dispatched_at,
        first_unit_code,
        first_unit_name,
        first_deadline_at,
        handling_unit_code,
        return_count,
        agreement_status,
        case agreement_status when '一致' then true when '不一致' then false end as unit_agrees,
        deadline_agrees,
        first_delivery_date,
        last_delivery_date

    from compared

)

select * from final
