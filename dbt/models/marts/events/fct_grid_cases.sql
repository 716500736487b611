{#-
    One row per grid (网格/数字城管) case in its newest version; incremental (strategy
    `delivery_window`, slice key case_id), re-derived from all versions of every case the
    window's deliveries carry now or carried before; a withdrawn case is deleted (see
    fct_hotline_orders). Open cases are re-derived on every build for `is_overdue`.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delivery_window',
        unique_key='case_id',
        always_rebuilt='not is_closed or (deadline_at is not null and disposed_at is null)',
    )
}}

with

int_grid_case_versions as (

    select * from {{ ref('int_grid_case_versions') }}

),

grid_categories as (

    select * from {{ ref('grid_categories') }}

),

data_cutoff as (

    select cast(max(delivery_date) + interval 1 day as timestamp) as data_cutoff_at
    from int_grid_case_versions

),

{% if is_incremental() %}
    changed_cases as (

        -- What this build's deliveries carry now, and the slice of the table (what they
        -- carried before, and everything still open).
        select case_id
        from int_grid_case_versions
        where {{ in_delivery_window('delivery_date') }}
        union
        {{ window_slice('case_id') }}

    ),
{% endif %}

versions as (

    select
        *,
        min(delivery_date) over (partition by case_id) as first_delivery_date,
        max(delivery_date) over (partition by case_id) as last_delivery_date,
        count(*) over (partition by case_id) as version_count

    from int_grid_case_versions
    {% if is_incremental() %}
        where case_id in (select changed_cases.case_id from changed_cases)
    {% endif %}

),

latest as (

    select *
    from versions
    qualify row_number() over (
            partition by case_id
            order by updated_at desc, delivery_date desc, source_file desc, source_record_number desc
        ) = 1

),

enriched as (

    select
        latest.*,
        grid_categories.time_limit_hours,
        -- 处置时限: the subcategory's hours from 派遣, in natural hours (grid_categories).
        latest.dispatched_at + to_hours(grid_categories.time_limit_hours) as deadline_at,
        case
            when latest.department_code = 'S00' then 'S' || latest.street_code
            else latest.department_code
        end as responsible_unit_code,
        data_cutoff.data_cutoff_at

    from latest
    left join grid_categories
        on
            latest.case_type = grid_categories.case_type
            and latest.subcategory_code = grid_categories.subcategory_code
    cross join data_cutoff

),

final as (

    select
        case_id,
        discovered_at,
        cast(discovered_at as date) as discovered_date,
        discovery_method,
        case_type,
        category_code,
        category_name,
        subcategory_code,
        subcategory_name,
        case_type || '-' || subcategory_code as classification_code,
        case_description_scrubbed,
        address_masked,
        longitude,
        latitude,
        street_code,
        grid_code,
        responsible_unit_code,
        inspector_id,
        case_status,
        case
            when closed_at is not null or is_cancelled then '结案'
            when disposed_at is not null then '处置'
            when dispatched_at is not null then '派遣'
            else '发现'
        end as lifecycle_stage,
        registered_at,
        dispatched_at,
        disposed_at,
        verified_at,
        closed_at,
        time_limit_hours,
        deadline_at,
        source_deadline_at,
        coalesce(is_cancelled, false) as is_cancelled,
        registered_at is not null as is_registered,
        coalesce(rework_count, 0) as rework_count,
        coalesce(rework_count, 0) > 0 as has_rework,
        case when disposed_at is not null then disposed_at <= deadline_at end as is_disposed_on_time,
        -- 超期: disposed after the deadline, or not disposed by the data cut-off.
        case
            when deadline_at is null then null
            else coalesce(disposed_at, data_cutoff_at) > deadline_at
        end as is_overdue,
        round(date_diff('second', dispatched_at, disposed_at) / 3600.0, 2) as disposal_hours,
        closed_at is not null or coalesce(is_cancelled, false) as is_closed,
        updated_at,
        first_delivery_date,
        last_delivery_date,
        version_count

    from enriched

)

select * from final
