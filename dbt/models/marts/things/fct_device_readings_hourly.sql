{#-
    Hourly aggregate of every device's readings, from the Parquet lake.

    Incremental by reading hour (strategy `delivery_window`, slice key hour_at). A build
    recomputes, for every device, each hour that the window's deliveries carry readings of now
    (late readings included) or carried before (an hour whose delivery span overlaps the
    window), from every delivery that holds readings of it: a reading a re-sent day withdrew
    leaves its hour, and an hour left without readings is deleted. One value counts per
    (device, metric, time): when a reading is delivered again, the newest delivery wins. A live
    run recomputes only the hours from `CITYOPS_HOURS_FROM` on (config `hours_from`): the
    hours of the batches landed since its previous run.

    Both groupings use a fixed-width series key, so that a full build of a year (365 M
    readings, 270 M device-hours) spills to disk under the memory limit.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delivery_window',
        unique_key='hour_at',
        hours_from='hour_at',
    )
}}

{#- A full build reads every reading. An incremental build reads the readings of the slice's
    hours, found before the model runs and written out as time ranges: a semi-join on the
    touched hours instead (`date_trunc('hour', reading_at) in (select …)`) built its hash table
    on the readings side, payload and all, twice, and ran out of memory on a 30-day window
    (3.7 of 3.7 GiB, 30 M readings; the same readings aggregate in full under the limit). The
    scan starts at the oldest delivery of those hours (Hive partition pruning: a few days). -#}
{%- set readings_to_aggregate = 'true' -%}
{%- if is_incremental() and execute -%}
    {%- set slice_hours_query -%}
        with

        hours as (

            select distinct date_trunc('hour', reading_at) as hour_at
            from {{ ref('stg_iot__readings') }}
            where {{ in_delivery_window('delivery_date') }} and {{ hours_from('reading_at') }}
            union
            select distinct hour_at
            from ({{ window_slice('hour_at') }})

        ),

        islands as (

            select
                hour_at,
                hour_at - to_hours(row_number() over (order by hour_at)) as island

            from hours

        )

        select
            strftime(min(hour_at), '%Y-%m-%d %H:%M:%S') as range_start,
            strftime(max(hour_at) + interval 1 hour, '%Y-%m-%d %H:%M:%S') as range_end

        from islands
        group by island
        order by range_start
    {%- endset -%}
    {%- set ranges = run_query(slice_hours_query).rows -%}
    {%- set in_slice_hours = [] -%}
    {%- for range in ranges -%}
        {%- do in_slice_hours.append(
            "(reading_at >= timestamp '" ~ range[0] ~ "' and reading_at < timestamp '" ~ range[1] ~ "')"
        ) -%}
    {%- endfor -%}
    {%- set readings_to_aggregate = '(' ~ (in_slice_hours | join('\n        or ') or 'false') ~ ')' -%}
    {#- The hours' readings lie in the window's deliveries and in the deliveries the table
        records for them (first_delivery_date on; none recorded: every delivery). -#}
    {%- set scan_from_day = window_bound('min_dt') or window_bound('max_dt') -%}
    {%- if ranges and scan_from_day is not none -%}
        {%- if 'first_delivery_date' in (adapter.get_columns_in_relation(this) | map(attribute='name')) -%}
            {%- set oldest_query -%}
                select
                    least(
                        cast('{{ scan_from_day }}' as date),
                        min(coalesce(first_delivery_date, date '0001-01-01'))
                    )
                from {{ this }}
                where {{ readings_to_aggregate | replace('reading_at', 'hour_at') }}
            {%- endset -%}
            {%- set scan_from_day = run_query(oldest_query).columns[0].values()[0] -%}
        {%- else -%}
            {%- set scan_from_day = none -%}
        {%- endif -%}
    {%- endif -%}
    {%- if scan_from_day is not none -%}
        {%- set readings_to_aggregate = readings_to_aggregate
            ~ " and delivery_date >= cast('" ~ scan_from_day ~ "' as date)" -%}
    {%- endif -%}
{%- endif %}

with

stg_iot__readings as (

    select * from {{ ref('stg_iot__readings') }}

),

readings as not materialized (

    -- Scanned twice (the values, the series' names), never materialised: a year is 365 M
    -- readings.
    select
        device_id,
        metric,
        reading_at,
        reading_value,
        delivery_date

    from stg_iot__readings
    where {{ readings_to_aggregate }}

),

deduplicated as (

    -- Grouped by a fixed-width series key (a hash of device and metric) and the time: a
    -- group by (device_id, metric, reading_at) over a year's 365 M readings ran out of memory
    -- in DuckDB 2.0.1 instead of spilling. The series' names are joined back at the end.
    select
        hash(device_id, metric) as series_key,
        reading_at,
        arg_max(reading_value, delivery_date) as reading_value,
        -- Every delivery of the reading is part of the hour's span: withdrawing a newer copy
        -- brings an older one back.
        min(delivery_date) as first_delivery_date,
        max(delivery_date) as delivery_date

    from readings
    group by hash(device_id, metric), reading_at

),

series as (

    select
        device_id,
        metric,
        hash(device_id, metric) as series_key

    from readings
    group by device_id, metric
    -- Two series with one 64-bit key (about 1e-11 for 30 k series) would merge their hours:
    -- fail the build instead.
    qualify
        case
            when count(*) over (partition by series_key) = 1 then true
            else error('fct_device_readings_hourly: two series share the key ' || series_key)
        end

),

hourly as (

    select
        series_key,
        date_trunc('hour', reading_at) as hour_at,
        count(*) as reading_count,
        min(reading_value) as min_value,
        max(reading_value) as max_value,
        -- Rounded to 1e-6 (far below any sensor's resolution): a parallel sum adds in no
        -- fixed order, so the last bits vary between runs (0.1 + 0.2 + 0.3 is 0.6000000000000001
        -- or 0.6), and an hour averaging exactly 20 km/h fell on either side of the
        -- congestion threshold `<= 20` (7 of 193 k speed-hours in one month, two builds of
        -- the same year). Rounded, the same readings give the same value in every build.
        round(avg(reading_value), 6) as avg_value,
        round(sum(reading_value), 6) as sum_value,
        arg_max(reading_value, reading_at) as last_value,
        min(reading_at) as first_reading_at,
        max(reading_at) as last_reading_at,
        -- The first moment the hour's maximum was reached. Ties must be broken by time, or
        -- the value would depend on scan order: the key orders by value (readings differ by
        -- far more than 1e-6) and then by the earlier second (a one-second step is 1e-4,
        -- well above double precision at 1e10). A [value, -time] list key does the same
        -- but costs a third more on 30 M readings.
        arg_max(reading_at, reading_value * 1e6 - epoch(reading_at) / 1e4) as peak_at,
        min(first_delivery_date) as first_delivery_date,
        max(delivery_date) as last_delivery_date

    from deduplicated
    group by series_key, date_trunc('hour', reading_at)

),

final as (

    select
        series.device_id,
        series.metric,
        hourly.hour_at,
        hourly.reading_count,
        hourly.min_value,
        hourly.max_value,
        hourly.avg_value,
        hourly.sum_value,
        hourly.last_value,
        hourly.first_reading_at,
        hourly.last_reading_at,
        hourly.peak_at,
        hourly.first_delivery_date,
        hourly.last_delivery_date

    from hourly
    inner join series
        on hourly.series_key = series.series_key

)

select * from final
