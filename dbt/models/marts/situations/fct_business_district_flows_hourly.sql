{#- 商圈客流: hourly footfall and sales of the business districts, with the same hour's
    mean over the up to 7 days before, so a festival peak stands out. -#}
with

stg_business__district_flows as (

    select * from {{ ref('stg_business__district_flows') }}

),

latest as (

    select *
    from stg_business__district_flows
    qualify row_number() over (
            partition by district_code, hour_at
            order by delivery_date desc, source_file desc, source_record_number desc
        ) = 1

),

with_baseline as (

    select
        *,
        avg(footfall) over (
            partition by district_code, extract(hour from hour_at)
            order by hour_at
            rows between 7 preceding and 1 preceding
        ) as baseline_footfall

    from latest

),

final as (

    select
        district_code,
        -- Texts the source sends pass the PII scrubber (quality/pii.py) before they are served.
        {{ scrub_free_text('district_name') }} as district_name,
        hour_at,
        cast(hour_at as date) as flow_date,
        footfall,
        sales_yuan,
        transaction_count,
        round(baseline_footfall, 1) as baseline_footfall,
        round(footfall / nullif(baseline_footfall, 0), 2) as footfall_ratio,
        delivery_date

    from with_baseline

)

select * from final
