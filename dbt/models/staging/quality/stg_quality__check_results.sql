with

source as (

    {{ from_lake_files(source('quality', 'check_results')) }}

),

final as (

    select
        -- Dagster run ids are UUIDs; typed so, they are not text the PII scan would read
        -- (a UUID's last group can look like a mobile number). With the event's storage id
        -- they identify the evaluation (the store's evaluation_id, "<run id>:<storage id>").
        cast(run_id as uuid) as run_id,
        event_storage_id,
        job_name,
        check_name,
        asset_key,
        source_table,
        engine,
        check_scope,
        partition_start as partition_start_date,
        partition_end as partition_end_date,
        passed as is_passed,
        severity,
        is_blocking,
        -- Scrubbed in fct_check_results (a view cannot call the Python scrubber).
        description,
        metadata_json,
        timezone('Asia/Shanghai', evaluated_at) as evaluated_at,
        evaluated_date

    from source

)

select * from final
