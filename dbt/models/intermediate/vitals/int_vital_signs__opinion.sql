{#-
    舆情 vital signs from the 12345 hotline, daily: the volume of orders, each topic's orders
    (the keyword topics of complaint_topics, district-wide, one series per topic) and the
    share of complaints and reports among the day's orders.
-#}
with

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

int_hotline_order_topics as (

    select * from {{ ref('int_hotline_order_topics') }}

),

complaint_topics as (

    select * from {{ ref('complaint_topics') }}

),

int_vital_periods as (

    select * from {{ ref('int_vital_periods') }}

),

orders as (

    select
        street_code,
        grid_code,
        accepted_date as report_date,
        accepted_at as report_at,
        request_type in ('投诉', '举报') as is_complaint
    from fct_hotline_orders

),

order_areas as (

    {{ fan_out_to_areas('orders', ['district', 'street']) }}

),

day_spine as (

    {{ vital_spine('day', ['district', 'street']) }}

),

complaint_share as (

    select
        'OPI_COMPLAINT_SHARE' as indicator_code,
        day_spine.area_level,
        day_spine.area_code,
        '-' as subject_code,
        day_spine.period_start,
        round(100.0 * count(*) filter (where order_areas.is_complaint) / nullif(count(order_areas.report_date), 0), 1)
            as value,
        cast(count(order_areas.report_date) as varchar) || '件诉求' as detail,
        cast(null as timestamp[]) as event_times
    from day_spine
    left join order_areas
        on
            day_spine.area_level = order_areas.area_level
            and day_spine.area_code = order_areas.area_code
            and day_spine.period_start = cast(order_areas.report_date as timestamp)
    group by day_spine.area_level, day_spine.area_code, day_spine.period_start

),

topic_days as (

    select
        complaint_topics.topic_code,
        complaint_topics.topic_name,
        periods.period_start
    from complaint_topics
    cross join int_vital_periods as periods
    where periods.grain = 'day'

),

topic_counts as (

    select
        topic_code,
        period_start,
        count(*) as order_count,
        list(accepted_at order by accepted_at) as event_times
    from (
        select distinct
            topic_code,
            order_id,
            accepted_at,
            cast(accepted_date as timestamp) as period_start
        from int_hotline_order_topics
    ) as topic_orders
    group by all

),

topic_spikes as (

    select
        'OPI_TOPIC_SPIKE' as indicator_code,
        'district' as area_level,
        '{{ var("district_code") }}' as area_code,
        topic_days.topic_code as subject_code,
        topic_days.period_start,
        cast(coalesce(topic_counts.order_count, 0) as double) as value,
        topic_days.topic_name as detail,
        topic_counts.event_times
    from topic_days
    left join topic_counts
        on
            topic_days.topic_code = topic_counts.topic_code
            and topic_days.period_start = topic_counts.period_start

),

final as (

    {{ daily_report_counts('OPI_HOTLINE_VOLUME', 'orders', ['district', 'street']) }}
    union all
    select * from topic_spikes
    union all
    select * from complaint_share

)

select * from final
