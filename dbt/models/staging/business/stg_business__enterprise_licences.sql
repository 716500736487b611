with

source as (

    select * from {{ source('business', 'enterprise_licences') }}

),

final as (

    select
        licence_number,
        uscc,
        licence_type,
        issued_date,
        valid_until as valid_until_date,
        issuing_authority,
        dt as delivery_date,
        _source_file as source_file,
        _source_record as source_record_number

    from source

)

select * from final
