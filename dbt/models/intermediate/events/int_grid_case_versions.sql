{#-
    Every delivered version of every grid case, with the address masked and personal data
    scrubbed from every text the source sends (the description, the category names).
    Incremental by delivery day: a build replaces every version of the window's delivery days
    (as int_hotline_order_versions).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delivery_window',
        unique_key='delivery_date',
        delivery_span=['delivery_date', 'delivery_date'],
    )
}}

with

stg_grid__cases as (

    select * from {{ ref('stg_grid__cases') }}

),

final as (

    select
        case_id,
        delivery_date,
        grid_code,
        street_code,
        case_type,
        category_code,
        {{ scrub_free_text('category_name') }} as category_name,
        subcategory_code,
        {{ scrub_free_text('subcategory_name') }} as subcategory_name,
        discovery_method,
        {{ scrub_free_text('case_description') }} as case_description_scrubbed,
        {{ mask_address('address') }} as address_masked,
        -- Public-space locations, rounded to about 100 m for display (domain.md §2.4).
        round(longitude, 3) as longitude,
        round(latitude, 3) as latitude,
        discovered_at,
        registered_at,
        dispatched_at,
        disposed_at,
        verified_at,
        closed_at,
        source_deadline_at,
        case_status,
        is_cancelled,
        rework_count,
        -- Codes the contract gives no pattern: scrubbed like any text (a valid code is kept).
        {{ scrub_free_text('department_code') }} as department_code,
        {{ scrub_free_text('inspector_id') }} as inspector_id,
        updated_at,
        source_file,
        source_record_number

    from stg_grid__cases
    {% if is_incremental() %}
        where {{ in_delivery_window('delivery_date') }}
    {% endif %}

)

select * from final
