with

source as (

    select * from {{ source('business', 'market_prices') }}

),

final as (

    select
        market_code,
        market_name,
        commodity_code,
        commodity_name,
        unit as price_unit,
        price_yuan,
        price_date,
        dt as delivery_date,
        _source_file as source_file,
        _source_record as source_record_number

    from source

)

select * from final
