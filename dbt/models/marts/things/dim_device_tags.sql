with

dim_devices as (

    select * from {{ ref('dim_devices') }}

),

final as (

    select
        device_id,
        device_type,
        grid_code,
        street_code,
        unnest(tags) as tag

    from dim_devices
    where tags is not null

)

select * from final
