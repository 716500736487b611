with

business_districts as (

    select * from {{ ref('business_districts') }}

),

streets as (

    select * from {{ ref('streets') }}

),

final as (

    select
        business_districts.district_code as business_district_code,
        business_districts.district_name as business_district_name,
        business_districts.street_code,
        streets.street_name

    from business_districts
    left join streets
        on business_districts.street_code = streets.street_code

)

select * from final
