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
        -- Money in fen-exact decimals: a sum of doubles depends on the order the threads add
        -- them in, and a daily total that differs in its last bit can cross a rounded threshold.
        cast(sales_yuan as decimal(18, 2)) as sales_yuan,
        transactions as transaction_count,
        dt as delivery_date,
        _source_file as source_file,
        _source_record as source_record_number

    from source

)

select * from final
