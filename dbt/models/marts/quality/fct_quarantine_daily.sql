{#-
    每日隔离统计: rows each lake table quarantined per delivery day and reason, dense over
    the reasons (a reason with no rows that day is a zero, not a gap), beside the
    partition's rows read, written and dropped as duplicates, so rates can be taken. The
    partition's counts repeat on each of its reason rows: sum them per partition, not per
    reason. From the ingestion accounting records (the last successful ingestion of each
    partition).
-#}
with

stg_quality__ingestion_logs as (

    select * from {{ ref('stg_quality__ingestion_logs') }}

),

quarantine_reasons as (

    select * from {{ ref('quarantine_reasons') }}

),

reason_codes as (

    select
        table_name,
        delivery_date,
        quarantined_by_reason,
        unnest(json_keys(quarantined_by_reason)) as reason_code

    from stg_quality__ingestion_logs

),

reason_counts as (

    select
        table_name,
        delivery_date,
        reason_code,
        cast(quarantined_by_reason ->> reason_code as bigint) as rows_quarantined

    from reason_codes

),

-- The contract's reasons, and any other code a record carries (a reason added later).
reasons as (

    select reason_code from quarantine_reasons
    union
    select reason_code from reason_counts

),

final as (

    select
        ingestion_logs.table_name,
        ingestion_logs.source_name,
        ingestion_logs.delivery_date,
        reasons.reason_code,
        quarantine_reasons.reason_name,
        coalesce(reason_counts.rows_quarantined, 0) as rows_quarantined,
        ingestion_logs.rows_read,
        ingestion_logs.rows_written,
        ingestion_logs.rows_quarantined as rows_quarantined_all_reasons,
        ingestion_logs.duplicates_dropped,
        ingestion_logs.late_rows,
        coalesce(reason_counts.rows_quarantined, 0) / nullif(ingestion_logs.rows_read, 0) as quarantine_rate,
        ingestion_logs.ingested_at

    from stg_quality__ingestion_logs as ingestion_logs
    cross join reasons
    left join quarantine_reasons
        on reasons.reason_code = quarantine_reasons.reason_code
    left join reason_counts
        on
            ingestion_logs.table_name = reason_counts.table_name
            and ingestion_logs.delivery_date = reason_counts.delivery_date
            and reasons.reason_code = reason_counts.reason_code

)

select * from final
