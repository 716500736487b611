with

grids as (

    select * from {{ ref('grids') }}

),

streets as (

    select * from {{ ref('streets') }}

),

final as (

    select
        grids.grid_code,
        grids.grid_name,
        grids.street_code,
        streets.street_name,
        '310106' as district_code,
        grids.center_lng as center_longitude,
        grids.center_lat as center_latitude,
        string_split(grids.roads, '|') as boundary_roads

    from grids
    left join streets
        on grids.street_code = streets.street_code

)

select * from final
