with

streets as (

    select * from {{ ref('streets') }}

),

final as (

    -- Facts verified in domain.md §5.2 (七普 population, area, formation).
    select
        '310106' as district_code,
        '静安区' as district_name,
        'Jing''an District' as district_name_en,
        '310000' as city_code,
        '上海市' as city_name,
        37.37 as area_km2,
        975707 as resident_population_2020,
        count(*) as street_count,
        sum(grid_count) as grid_count

    from streets

)

select * from final
