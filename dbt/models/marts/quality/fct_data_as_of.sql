{#-
    数据截至: one row saying how current the data are and whether they are a demo, for the
    quality dashboard's note. The data's as-of is the newest delivery day in the lake
    (fct_source_freshness); the wall clock is the one the newest freshness checks judged at.
    The data are a demo when the demo generator's manifest is in the landing folder
    (stg_quality__generator_manifest): a demo replays past days, so every check against the
    wall clock is late, and the note says that this is no fault of the sources.
-#}
with

fct_source_freshness as (

    select * from {{ ref('fct_source_freshness') }}

),

stg_quality__generator_manifest as (

    select * from {{ ref('stg_quality__generator_manifest') }}

),

sources as (

    select
        max(data_as_of_date) as data_as_of_date,
        count(*) as sources,
        count(*) filter (where is_behind_data) as sources_behind_data,
        count(wall_clock_checked_at) as sources_checked,
        count(*) filter (where is_late_by_wall_clock) as sources_late_by_wall_clock,
        max(wall_clock_checked_at) as wall_clock_checked_at,
        max(wall_clock_expected_date) as wall_clock_expected_date

    from fct_source_freshness

),

generator as (

    select *
    from stg_quality__generator_manifest
    qualify row_number() over (order by generator_start_date desc, generator_version desc) = 1

),

summary as (

    select
        sources.*,
        sources.wall_clock_expected_date - sources.data_as_of_date as wall_clock_lag_days,
        generator.generator_version is not null as is_demo,
        generator.generator_version,
        generator.generator_seed,
        generator.generator_start_date,
        generator.generator_days,
        strftime(sources.wall_clock_checked_at, '%Y-%m-%d %H:%M') as checked_text

    from sources
    left join generator on true

),

final as (

    select
        data_as_of_date,
        is_demo,
        case when is_demo then '演示数据' else '数据源交付' end as data_origin_name,
        generator_version,
        generator_seed,
        generator_start_date,
        generator_days,
        sources,
        sources_behind_data,
        sources_checked,
        sources_late_by_wall_clock,
        wall_clock_checked_at,
        wall_clock_expected_date,
        wall_clock_lag_days,
        concat(
            case when is_demo then '演示数据：' else '' end,
            coalesce('数据截至 ' || strftime(data_as_of_date, '%Y-%m-%d'), '尚无入湖数据'),
            '。',
            case
                when sources_checked = 0 then '尚无按系统时间判断的时效检查结果。'
                when sources_late_by_wall_clock = 0 then '按系统时间（' || checked_text || '）判断，各数据源均按时。'
                when is_demo and sources_late_by_wall_clock = sources_checked
                    then concat(
                            '按系统时间（', checked_text, '）判断的时效检查均为滞后',
                            '（数据晚 ' || wall_clock_lag_days || ' 天）',
                            '：演示数据回放历史日期，不代表数据源故障。'
                        )
                else concat(
                        '按系统时间（', checked_text, '）判断，',
                        sources_late_by_wall_clock, '/', sources_checked, ' 个数据源时效滞后',
                        case when wall_clock_lag_days > 0 then '（数据晚 ' || wall_clock_lag_days || ' 天）' end,
                        '。'
                    )
            end,
            case
                when data_as_of_date is null then ''
                when sources_behind_data = 0 then '相对数据自身的最新交付日，各数据源均按时。'
                else '相对数据自身的最新交付日，' || sources_behind_data || ' 个数据源滞后。'
            end
        ) as data_note

    from summary

)

select * from final
