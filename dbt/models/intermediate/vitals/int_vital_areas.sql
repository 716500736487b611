{#- The areas vital signs are measured for: the district, its streets and its grids. One row
    per (area_level, area_code). -#}
with

dim_district as (

    select * from {{ ref('dim_district') }}

),

dim_streets as (

    select * from {{ ref('dim_streets') }}

),

dim_grids as (

    select * from {{ ref('dim_grids') }}

),

final as (

    select
        'district' as area_level,
        district_code as area_code,
        district_name as area_name,
        cast(null as varchar) as street_code,
        cast(null as varchar) as grid_code
    from dim_district
    union all
    select
        'street' as area_level,
        street_code as area_code,
        street_name as area_name,
        street_code,
        cast(null as varchar) as grid_code
    from dim_streets
    union all
    select
        'grid' as area_level,
        grid_code as area_code,
        grid_name as area_name,
        street_code,
        grid_code
    from dim_grids

)

select * from final
