{#- Hotline orders tagged with complaint topics by keyword patterns on the scrubbed text. -#}
with

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

complaint_topics as (

    select * from {{ ref('complaint_topics') }}

),

final as (

    select
        fct_hotline_orders.order_id,
        complaint_topics.topic_code,
        complaint_topics.topic_name,
        fct_hotline_orders.accepted_date,
        fct_hotline_orders.street_code,
        fct_hotline_orders.grid_code

    from fct_hotline_orders
    inner join complaint_topics
        on regexp_matches(fct_hotline_orders.content_scrubbed, complaint_topics.keyword_pattern)

)

select * from final
