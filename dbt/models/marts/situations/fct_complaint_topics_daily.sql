{#-
    诉求话题日统计 with spike detection. A topic spikes on a day when its orders reach
    `spike_min_orders` and `spike_ratio` times its mean over the up to 7 days before (days
    without orders count as zero; the first delivery day has no baseline and never spikes).
-#}
with

int_hotline_order_topics as (

    select * from {{ ref('int_hotline_order_topics') }}

),

complaint_topics as (

    select * from {{ ref('complaint_topics') }}

),

fct_hotline_orders as (

    select * from {{ ref('fct_hotline_orders') }}

),

observed as (

    -- The days the deliveries cover. An order accepted before the first delivery day
    -- arrived late; its day was never fully observed and would be a false, empty baseline.
    select
        min(first_delivery_date) as first_day,
        max(accepted_date) as last_day

    from fct_hotline_orders

),

days as (

    select unnest(generate_series(first_day, last_day, interval 1 day)) as stat_day
    from observed

),

topic_days as (

    select
        cast(days.stat_day as date) as stat_date,
        complaint_topics.topic_code,
        complaint_topics.topic_name

    from days
    cross join complaint_topics

),

counts as (

    select
        topic_code,
        accepted_date,
        count(distinct order_id) as order_count,
        count(distinct street_code) as street_count

    from int_hotline_order_topics
    where accepted_date >= (select observed.first_day from observed)
    group by topic_code, accepted_date

),

daily as (

    select
        topic_days.stat_date,
        topic_days.topic_code,
        topic_days.topic_name,
        coalesce(counts.order_count, 0) as order_count,
        coalesce(counts.street_count, 0) as street_count

    from topic_days
    left join counts
        on
            topic_days.topic_code = counts.topic_code
            and topic_days.stat_date = counts.accepted_date

),

with_baseline as (

    select
        *,
        avg(order_count) over (
            partition by topic_code
            order by stat_date
            rows between 7 preceding and 1 preceding
        ) as baseline_daily_orders,
        count(*) over (
            partition by topic_code
            order by stat_date
            rows between 7 preceding and 1 preceding
        ) as baseline_days

    from daily

),

final as (

    select
        stat_date,
        topic_code,
        topic_name,
        order_count,
        street_count,
        round(baseline_daily_orders, 2) as baseline_daily_orders,
        baseline_days,
        baseline_days >= 1
        and order_count >= {{ var('spike_min_orders') }}
        and order_count >= {{ var('spike_ratio') }} * baseline_daily_orders as is_spike

    from with_baseline

)

select * from final
