{#-
    One row per 12345 work order in its newest version. Incremental (strategy
    `delivery_window`, slice key order_id): a build re-derives, from all of its versions, every
    order the window's deliveries carry now or carried before (its delivery span overlaps the
    window), so a late record never overwrites a newer one, a corrected re-send does, and an
    order a re-send withdrew with its last version is deleted. Open orders, and orders still
    waiting for a reply, are re-derived on every build: `is_overdue` follows the data cut-off.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delivery_window',
        unique_key='order_id',
        always_rebuilt='not is_closed or (deadline_at is not null and replied_at is null)',
    )
}}

with

int_hotline_order_versions as (

    select * from {{ ref('int_hotline_order_versions') }}

),

hotline_matters as (

    select * from {{ ref('hotline_matters') }}

),

dispatch_rules as (

    select * from {{ ref('dispatch_rules') }}

),

dim_departments as (

    select * from {{ ref('dim_departments') }}

),

data_cutoff as (

    -- The end of the newest delivery day: "now", as far as the data can tell.
    select cast(max(delivery_date) + interval 1 day as timestamp) as data_cutoff_at
    from int_hotline_order_versions

),

{% if is_incremental() %}
    changed_orders as (

        -- What this build's deliveries carry now, and the slice of the table (what they
        -- carried before, and everything still open).
        select order_id
        from int_hotline_order_versions
        where {{ in_delivery_window('delivery_date') }}
        union
        {{ window_slice('order_id') }}

    ),
{% endif %}

versions as (

    select
        *,
        min(delivery_date) over (partition by order_id) as first_delivery_date,
        max(delivery_date) over (partition by order_id) as last_delivery_date,
        count(*) over (partition by order_id) as version_count

    from int_hotline_order_versions
    {% if is_incremental() %}
        where order_id in (select changed_orders.order_id from changed_orders)
    {% endif %}

),

latest as (

    select *
    from versions
    qualify row_number() over (
            partition by order_id
            order by updated_at desc, delivery_date desc, source_file desc, source_record_number desc
        ) = 1

),

first_dispatches as (

    -- The unit of the first dispatch, where a delivered version shows it before any 改派 (a
    -- 退单 and 改派 on the dispatch day hide it; then the rule's unit stands in for it).
    select
        versions.order_id,
        arg_min(dim_departments.department_code, versions.updated_at) as first_unit_code
    from versions
    inner join dim_departments
        on versions.handling_unit_name = dim_departments.department_name
    where versions.dispatched_at is not null and versions.redispatched_at is null
    group by versions.order_id

),

with_rules as (

    select
        latest.*,
        hotline_matters.category as matter_category,
        hotline_matters.subcategory as matter_subcategory,
        dispatch_rules.rule_id as dispatch_rule_id,
        dispatch_rules.time_limit_workdays,
        dispatch_rules.dispatch_level,
        -- The unit first dispatched to, else the rule's (S00: the order's street office).
        coalesce(
            first_dispatches.first_unit_code,
            {{ dispatch_unit_code('dispatch_rules.primary_unit_code', 'latest.street_code') }}
        ) as initial_unit_code,
        coalesce(latest.redispatched_at, latest.dispatched_at) as effective_dispatched_at

    from latest
    left join first_dispatches
        on latest.order_id = first_dispatches.order_id
    left join hotline_matters
        on latest.matter_code = hotline_matters.matter_code
    left join dispatch_rules
        on {{ dispatch_rule_in_force('dispatch_rules', 'latest.matter_code', 'latest.dispatched_at') }}

),

with_units as (

    select
        with_rules.*,
        case
            when with_rules.dispatched_at is null then 'H12345'
            else dim_departments.department_code
        end as handling_unit_code

    from with_rules
    left join dim_departments
        on with_rules.handling_unit_name = dim_departments.department_name

),

with_deadlines as (

    select
        with_units.*,
        -- 办理时限: the rule's working days from the latest (re)dispatch, keeping the clock
        -- time (the source resets the limit on 改派 — ❓ no published rule says so).
        {{ add_working_days('with_units.effective_dispatched_at', 'with_units.time_limit_workdays') }}
            as deadline_at,
        -- Until a step happens, its clock runs to the data cut-off.
        round({{ working_minutes_between(
            'with_units.effective_dispatched_at',
            'coalesce(with_units.signed_at, data_cutoff.data_cutoff_at)',
        ) }}, 1) as sign_clock_minutes,
        round({{ working_minutes_between(
            'with_units.signed_at',
            'coalesce(with_units.first_contact_at, data_cutoff.data_cutoff_at)',
        ) }}, 1) as first_contact_clock_minutes,
        round({{ working_minutes_between('with_units.dispatched_at', 'with_units.replied_at') }}, 1)
            as handling_working_minutes,
        case
            when with_units.order_status in ('已归档', '直接答复', '已并单') then with_units.updated_at
        end as closed_at,
        data_cutoff.data_cutoff_at

    from with_units
    cross join data_cutoff

),

final as (

    select
        order_id,
        accepted_at,
        cast(accepted_at as date) as accepted_date,
        channel,
        request_type,
        matter_code,
        matter_category,
        matter_subcategory,
        content_scrubbed,
        has_phone_in_content,
        has_id_number_in_content,
        caller_key,
        caller_phone_masked,
        caller_phone_kind,
        caller_name_masked,
        address_masked,
        address_key,
        street_code,
        road_name,
        cross_road_name,
        grid_code,
        grid_match_method,
        order_status,
        case
            when closed_at is not null then '结案'
            when replied_at is not null then '处置'
            when dispatched_at is not null then '派遣'
            else '受理'
        end as lifecycle_stage,
        dispatch_rule_id,
        dispatch_level,
        time_limit_workdays,
        initial_unit_code,
        handling_unit_code,
        dispatched_at,
        redispatched_at,
        signed_at,
        first_contact_at,
        returned_at,
        return_reason,
        coalesce(return_count, 0) as return_count,
        deadline_at,
        source_deadline_at,
        replied_at,
        callback_at,
        callback_result,
        closed_at,
        merged_into_order_id,
        is_resolved_by_unit,
        is_resolved_at_callback,
        dispatched_at is not null as is_dispatched,
        coalesce(return_count, 0) > 0 as is_returned,
        case when signed_at is not null then sign_clock_minutes end as sign_working_minutes,
        -- 及时签收 / 先行联系: decided once the step happens or its limit has passed (the clock
        -- of a pending step runs to the data cut-off); null while the limit still runs.
        case
            when signed_at is not null
                then sign_clock_minutes <= {{ var('sign_limit_working_minutes') }}
            when sign_clock_minutes > {{ var('sign_limit_working_minutes') }} then false
        end as is_signed_on_time,
        case
            when first_contact_at is not null then first_contact_clock_minutes
        end as first_contact_working_minutes,
        case
            when first_contact_at is not null
                then first_contact_clock_minutes <= {{ var('first_contact_limit_working_minutes') }}
            when first_contact_clock_minutes > {{ var('first_contact_limit_working_minutes') }}
                then false
        end as is_first_contact_on_time,
        round(handling_working_minutes / 60.0, 2) as handling_working_hours,
        case when replied_at is not null then replied_at <= deadline_at end as is_replied_on_time,
        -- 超期: replied after the deadline, or still without a reply at the data cut-off.
        case
            when deadline_at is null then null
            else coalesce(replied_at, data_cutoff_at) > deadline_at
        end as is_overdue,
        callback_result in ('满意', '基本满意') as is_satisfied,
        closed_at is not null or merged_into_order_id is not null as is_closed,
        updated_at,
        first_delivery_date,
        last_delivery_date,
        version_count

    from with_deadlines

)

select * from final
