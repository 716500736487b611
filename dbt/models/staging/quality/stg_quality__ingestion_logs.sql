with

source as (

    {{ from_lake_files(source('quality', 'ingestion_logs')) }}

),

final as (

    select
        -- TABLE is a reserved word; the accounting record names the key so.
        "table" as table_name,  -- noqa: RF06
        source as source_name,
        dt as delivery_date,
        status as ingestion_status,
        rows_read,
        rows_written,
        rows_quarantined,
        quarantined_by_reason,
        duplicates_dropped,
        duplicates_by_kind,
        late_rows,
        timezone('Asia/Shanghai', finished_at) as ingested_at

    from source

)

select * from final
