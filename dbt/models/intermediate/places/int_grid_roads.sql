with

grids as (

    select * from {{ ref('grids') }}

),

final as (

    select
        grid_code,
        street_code,
        unnest(string_split(roads, '|')) as road_name

    from grids

)

select * from final
