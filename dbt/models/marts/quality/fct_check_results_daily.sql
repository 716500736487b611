{#-
    每日检查结果: per check, checked asset and day, how often the check ran, passed and
    failed, the worst severity of its failures and the outcome of its newest evaluation.
    The day is the delivery day an evaluation is about: an evaluation over a backfill range
    counts on every day of the range (its outcome is the range's, `range_evaluation_count`
    says how many such there were); one outside any partition counts on the day it ran.
    Each row carries its check's class (fct_check_results): the dashboard's pass rate counts
    the data checks, and a failed timeliness check is a lag (时效滞后), not a failure.
-#}
with

fct_check_results as (

    select * from {{ ref('fct_check_results') }}

),

evaluation_days as (

    select
        fct_check_results.*,
        fct_check_results.partition_end_date > fct_check_results.partition_start_date
            as is_range_evaluation,
        cast(covered.check_day as date) as check_date

    from fct_check_results
    cross join lateral generate_series(
        coalesce(fct_check_results.partition_start_date, fct_check_results.evaluated_date),
        coalesce(fct_check_results.partition_end_date, fct_check_results.evaluated_date),
        interval 1 day
    ) as covered (check_day)

),

newest as (

    select *
    from evaluation_days
    qualify row_number() over (
            partition by check_date, asset_key, check_name
            order by evaluated_at desc, run_id desc, event_storage_id desc
        ) = 1

),

daily as (

    select
        check_date,
        asset_key,
        check_name,
        count(*) as evaluation_count,
        count(*) filter (where is_passed) as passed_count,
        count(*) filter (where not is_passed) as failed_count,
        count(*) filter (where is_blocking_failure) as blocking_failed_count,
        count(*) filter (where coalesce(is_range_evaluation, false)) as range_evaluation_count,
        case
            when bool_or(not is_passed and severity = 'ERROR') then 'ERROR'
            when bool_or(not is_passed) then 'WARN'
        end as worst_severity

    from evaluation_days
    group by check_date, asset_key, check_name

),

final as (

    select
        daily.check_date,
        daily.asset_key,
        newest.source_table,
        daily.check_name,
        newest.engine,
        newest.engine_name,
        newest.check_class,
        newest.check_class_name,
        newest.check_scope,
        daily.evaluation_count,
        daily.passed_count,
        daily.failed_count,
        daily.blocking_failed_count,
        daily.range_evaluation_count,
        daily.worst_severity,
        newest.is_passed as is_latest_passed,
        newest.outcome as latest_outcome,
        newest.outcome_name as latest_outcome_name,
        newest.severity as latest_severity,
        newest.is_blocking_failure as is_latest_blocking_failure,
        newest.description as latest_description,
        newest.evaluated_at as latest_evaluated_at,
        newest.run_id as latest_run_id,
        newest.event_storage_id as latest_event_storage_id

    from daily
    inner join newest
        on
            daily.check_date = newest.check_date
            and daily.asset_key = newest.asset_key
            and daily.check_name = newest.check_name

)

select * from final
