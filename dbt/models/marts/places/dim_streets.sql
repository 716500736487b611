with

streets as (

    select * from {{ ref('streets') }}

),

grids as (

    select * from {{ ref('grids') }}

),

roads as (

    select * from {{ ref('roads') }}

),

grid_counts as (

    select
        street_code,
        count(*) as grid_count

    from grids
    group by street_code

),

road_counts as (

    select
        street_code,
        count(*) as road_count

    from roads
    group by street_code

),

final as (

    select
        streets.street_code,
        -- The 9-digit prefix of the 12-digit NBS code is the township code (domain.md §5.2).
        left(streets.street_code, 9) as township_code,
        streets.street_name,
        streets.street_name_en,
        case when streets.street_name like '%镇' then '镇' else '街道' end as street_kind,
        '310106' as district_code,
        streets.center_lng as center_longitude,
        streets.center_lat as center_latitude,
        coalesce(grid_counts.grid_count, 0) as grid_count,
        coalesce(road_counts.road_count, 0) as road_count

    from streets
    left join grid_counts
        on streets.street_code = grid_counts.street_code
    left join road_counts
        on streets.street_code = road_counts.street_code

)

select * from final
