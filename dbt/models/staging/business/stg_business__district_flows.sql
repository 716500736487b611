with

source as (

    select * from {{ source('business', 'business_district_flows') }}

),

final as (

    select
        district_code,
        district_name,
        hour_at,
        footfall,
        sales_yuan,
        transactions as transaction_count,
        dt as delivery_date,
        _source_file as source_file,
        _source_record as source_record_number

    from source

)

select * from final
