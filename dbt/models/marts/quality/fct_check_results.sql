{#-
    检查结果事实表: every asset check evaluation collected from Dagster, whatever engine ran
    it. Built in the foundation step from the store as it was when the build started: the
    checks of the build itself reach the mart with the next build (`cityops quality` reads
    the store and is always current).

    Each evaluation is classed by what its engine judges (quality/results.py, the same rule):
    data checks judge what was delivered, and their failure is a failure (检查失败);
    timeliness checks (freshness) judge when it arrived against the wall clock, and their
    failure is a lag (时效滞后): data replayed from the past is late by the wall clock
    whatever its quality, so the dashboard keeps lags out of the data checks' pass rate.
-#}
with

stg_quality__check_results as (

    select * from {{ ref('stg_quality__check_results') }}

),

-- Every engine of quality.results.ENGINES (the accepted_values test keeps them in step), its
-- Chinese name and what it judges (quality.results.WALL_CLOCK_ENGINES are the timeliness ones).
check_engines as (

    select
        engines.engine,
        engines.engine_name,
        engines.check_class,
        case engines.check_class when 'timeliness' then '时效检查（按系统时间）' else '数据检查' end as check_class_name
    from (
        values
        ('volume', '体量', 'data'),
        ('gx', 'Great Expectations', 'data'),
        ('faults', '交付故障', 'data'),
        ('freshness', '时效', 'timeliness'),
        ('dbt', 'dbt 测试', 'data'),
        ('other', '其他', 'data')
    ) as engines (engine, engine_name, check_class)

),

classified as (

    select
        checks.*,
        check_engines.engine_name,
        coalesce(check_engines.check_class, 'data') as check_class,
        coalesce(check_engines.check_class_name, '数据检查') as check_class_name,
        -- Dagster's partition freshness check notes the deadline tick it judged at
        -- (D+1 HH:MM, Asia/Shanghai): the partition it expected is the day before the tick.
        cast(
            timezone(
                'Asia/Shanghai',
                to_timestamp(try_cast(checks.metadata_json ->> '$."dagster/latest_cron_tick_timestamp"' as double))
            ) as date
        ) - 1 as tick_expected_date

    from stg_quality__check_results as checks
    left join check_engines
        on checks.engine = check_engines.engine

),

final as (

    select
        run_id,
        event_storage_id,
        check_name,
        asset_key,
        source_table,
        engine,
        engine_name,
        check_class,
        check_class_name,
        check_scope,
        partition_start_date,
        partition_end_date,
        is_passed,
        case
            when is_passed then 'passed'
            when check_class = 'timeliness' then 'late'
            else 'failed'
        end as outcome,
        case
            when is_passed then '通过'
            when check_class = 'timeliness' then '时效滞后'
            else '检查失败'
        end as outcome_name,
        case when check_class = 'timeliness' then tick_expected_date end as expected_partition_date,
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

    from classified

)

select * from final
