{{ config(schema='restricted') }}

with

source as (

    select * from {{ source('grid', 'grid_cases') }}

),

final as (

    select
        case_id,
        grid_code,
        street_code,
        case_type,
        category_code,
        category_name,
        subcategory_code,
        subcategory_name,
        discovery_method,
        description as case_description,
        address,
        longitude,
        latitude,
        discovered_at,
        registered_at,
        dispatched_at,
        disposed_at,
        verified_at,
        closed_at,
        deadline_at as source_deadline_at,
        status as case_status,
        is_cancelled,
        rework_count,
        department_code,
        reporter_id as inspector_id,
        updated_at,
        dt as delivery_date,
        _source_file as source_file,
        _source_record as source_record_number

    from source

)

select * from final
