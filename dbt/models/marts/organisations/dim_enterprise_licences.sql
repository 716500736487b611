with

stg_business__enterprise_licences as (

    select * from {{ ref('stg_business__enterprise_licences') }}

),

latest as (

    select *
    from stg_business__enterprise_licences
    qualify row_number() over (
            partition by licence_number
            order by delivery_date desc, source_file desc, source_record_number desc
        ) = 1

),

data_cutoff as (

    select max(delivery_date) as data_cutoff_date
    from stg_business__enterprise_licences

),

final as (

    select
        -- Texts the source sends pass the PII scrubber (quality/pii.py); a licence number
        -- (沪静卫公字[2024]第001508号, JY13101060015049) holds nothing it masks.
        {{ scrub_free_text('latest.licence_number') }} as licence_number,
        latest.uscc,
        latest.licence_type,
        latest.issued_date,
        latest.valid_until_date,
        {{ scrub_free_text('latest.issuing_authority') }} as issuing_authority,
        coalesce(latest.valid_until_date >= data_cutoff.data_cutoff_date, true) as is_valid,
        latest.delivery_date as last_delivery_date

    from latest
    cross join data_cutoff

)

select * from final
