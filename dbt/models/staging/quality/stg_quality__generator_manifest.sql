with

source as (

    {{ from_lake_files(source('quality', 'generator_manifest')) }}

),

final as (

    select
        cast(generator ->> 'version' as integer) as generator_version,
        cast(generator ->> 'seed' as bigint) as generator_seed,
        cast(generator ->> 'start' as date) as generator_start_date,
        cast(generator ->> 'days' as integer) as generator_days,
        cast(generator ->> 'scale' as double) as generator_scale,
        cast(generator ->> 'fault_rate' as double) as generator_fault_rate

    from source
    where generator is not null

)

select * from final
