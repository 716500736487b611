{#- 菜价: daily retail price of each commodity at each wet market, with the change on the
    market's previous price of it. -#}
with

stg_business__market_prices as (

    select * from {{ ref('stg_business__market_prices') }}

),

latest as (

    select *
    from stg_business__market_prices
    qualify row_number() over (
            partition by market_code, commodity_code, price_date
            order by delivery_date desc, source_file desc, source_record_number desc
        ) = 1

),

final as (

    select
        market_code,
        -- Texts the source sends pass the PII scrubber (quality/pii.py) before they are served.
        {{ scrub_free_text('market_name') }} as market_name,
        commodity_code,
        {{ scrub_free_text('commodity_name') }} as commodity_name,
        {{ scrub_free_text('price_unit') }} as price_unit,
        price_date,
        price_yuan,
        lag(price_yuan) over same_item as previous_price_yuan,
        round(price_yuan / nullif(lag(price_yuan) over same_item, 0) - 1, 4) as price_change_ratio,
        delivery_date

    from latest
    window same_item as (partition by market_code, commodity_code order by price_date)

)

select * from final
