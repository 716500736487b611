{{ config(schema='restricted') }}

with

source as (

    select * from {{ source('business', 'enterprises') }}

),

final as (

    select
        uscc,
        enterprise_name,
        enterprise_type,
        industry_section,
        registered_capital_10k_yuan,
        established_date,
        registration_status,
        address,
        street_name,
        legal_representative,
        registration_authority,
        approved_date,
        dt as delivery_date,
        _source_file as source_file,
        _source_record as source_record_number

    from source

)

select * from final
