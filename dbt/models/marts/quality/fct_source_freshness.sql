{#-
    数据源时效: each lake table's freshness by two clocks (quality/freshness.py).

    - The wall clock, the SLA's: the newest freshness check of the table (Dagster's partition
      freshness check, which judges at the wall clock), the partition it expected and whether
      that was there. Its verdict stands, but data replayed from the past (the demo) is late
      by it whatever its quality: the dashboard shows it apart from the data checks.
    - The data's own time (quality.freshness.data_clock): the newest delivery day any table
      has in the lake, `data_as_of_date`. Every SLA deadline falls after midnight on D+1, so
      at the end of day D the day before is due from every table: a table is behind the data
      when its newest partition is older than the day before `data_as_of_date` (one feed
      lagging the others; tests/unit/test_freshness.py keeps the SLAs so).
-#}
with

stg_quality__ingestion_logs as (

    select * from {{ ref('stg_quality__ingestion_logs') }}

),

fct_check_results as (

    select * from {{ ref('fct_check_results') }}

),

partitions as (

    select
        table_name,
        max(source_name) as source_name,
        count(*) as partitions,
        max(delivery_date) as newest_partition_date,
        max(ingested_at) as last_ingested_at,
        sum(rows_written) as rows_written,
        sum(late_rows) as late_rows

    from stg_quality__ingestion_logs
    group by table_name

),

newest_timeliness as (

    select
        source_table as table_name,
        evaluated_at as wall_clock_checked_at,
        expected_partition_date as wall_clock_expected_date,
        is_passed,
        severity

    from fct_check_results
    where check_class = 'timeliness' and source_table is not null
    qualify row_number() over (
            partition by source_table
            order by evaluated_at desc, run_id desc, event_storage_id desc
        ) = 1

),

data_clock as (

    select max(delivery_date) as data_as_of_date
    from stg_quality__ingestion_logs

),

lake_tables as (

    select table_name from partitions
    union
    select table_name from newest_timeliness

),

final as (

    select
        lake_tables.table_name,
        partitions.source_name,
        coalesce(partitions.partitions, 0) as partitions,
        partitions.newest_partition_date,
        partitions.last_ingested_at,
        coalesce(partitions.rows_written, 0) as rows_written,
        coalesce(partitions.late_rows, 0) as late_rows,
        data_clock.data_as_of_date,
        data_clock.data_as_of_date - partitions.newest_partition_date as days_behind_data,
        case
            when data_clock.data_as_of_date is null then null
            when partitions.newest_partition_date is null then true
            else partitions.newest_partition_date < data_clock.data_as_of_date - 1
        end as is_behind_data,
        case
            when partitions.newest_partition_date is null then '从未入湖'
            when partitions.newest_partition_date < data_clock.data_as_of_date - 1 then '落后'
            else '按时'
        end as data_status_name,
        newest_timeliness.wall_clock_checked_at,
        newest_timeliness.wall_clock_expected_date,
        case
            when newest_timeliness.wall_clock_expected_date is not null and partitions.newest_partition_date is not null
                then greatest(newest_timeliness.wall_clock_expected_date - partitions.newest_partition_date, 0)
        end as days_behind_wall_clock,
        not newest_timeliness.is_passed as is_late_by_wall_clock,
        newest_timeliness.severity as wall_clock_severity,
        case
            when newest_timeliness.is_passed is null then '未检查'
            when newest_timeliness.is_passed then '按时'
            else '时效滞后'
        end as wall_clock_status_name

    from lake_tables
    cross join data_clock
    left join partitions
        on lake_tables.table_name = partitions.table_name
    left join newest_timeliness
        on lake_tables.table_name = newest_timeliness.table_name

)

select * from final
