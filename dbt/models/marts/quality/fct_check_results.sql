{#-
    检查结果事实表: every asset check evaluation collected from Dagster, whatever engine ran
    it. Built in the foundation step from the store as it was when the build started: the
    checks of the build itself reach the mart with the next build (`cityops quality` reads
    the store and is always current).
-#}
with

stg_quality__check_results as (

    select * from {{ ref('stg_quality__check_results') }}

),

final as (

    select
        run_id,
        event_storage_id,
        check_name,
        asset_key,
        source_table,
        engine,
        check_scope,
        partition_start_date,
        partition_end_date,
        is_passed,
        severity,
        is_blocking,
        -- A check that did not say whether it blocks is taken to block (quality/results.py).
        not is_passed and severity = 'ERROR' and coalesce(is_blocking, true) as is_blocking_failure,
        -- A Great Expectations finding may quote an unexpected value, e.g. a malformed phone.
        {{ scrub_free_text('description') }} as description,
        {{ scrub_free_text('metadata_json') }} as metadata_json,
        job_name,
        evaluated_at,
        evaluated_date

    from stg_quality__check_results

)

select * from final
