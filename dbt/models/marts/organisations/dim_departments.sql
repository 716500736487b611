with

departments as (

    select * from {{ ref('departments') }}

),

streets as (

    select * from {{ ref('streets') }}

),

district_departments as (

    select
        department_code,
        department_name,
        department_name_en,
        department_kind,
        cast(null as varchar) as street_code

    from departments
    -- S00 is a placeholder ("the order's own street office"); the offices are listed below.
    where department_code <> 'S00'

),

street_offices as (

    select
        'S' || street_code as department_code,
        street_name as department_name,
        street_name_en || ' Office' as department_name_en,
        '街镇' as department_kind,
        street_code

    from streets

),

hotline_centre as (

    -- Orders answered at intake (直接答复) or merged (并单) are handled by 12345 itself.
    select
        'H12345' as department_code,
        '12345市民服务热线' as department_name,
        '12345 Citizen Service Hotline' as department_name_en,
        '热线' as department_kind,
        cast(null as varchar) as street_code

),

final as (

    select * from district_departments
    union all
    select * from street_offices
    union all
    select * from hotline_centre

)

select * from final
