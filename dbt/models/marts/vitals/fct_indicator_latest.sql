{#-
    指标最新状态: the newest value of every indicator series, with its level, the colour to
    show it in and the warning it belongs to, if any. One row per (indicator_code,
    area_level, area_code, subject_code). Colours: 绿 normal, 蓝/黄/橙/红 the warning
    levels, 灰 no level (no data, or no baseline yet).
-#}
with

int_warning_states as (

    select * from {{ ref('int_warning_states') }}

),

fct_warning_events as (

    select * from {{ ref('fct_warning_events') }}

),

dim_indicators as (

    select * from {{ ref('dim_indicators') }}

),

int_vital_areas as (

    select * from {{ ref('int_vital_areas') }}

),

fct_indicator_values as (

    select * from {{ ref('fct_indicator_values') }}

),

latest as (

    select *
    from int_warning_states
    where value is not null
    qualify row_number() over (
            partition by indicator_code, area_level, area_code, subject_code
            order by period_start desc
        ) = 1

),

final as (

    select
        latest.indicator_code,
        dim_indicators.indicator_name,
        dim_indicators.indicator_name_en,
        dim_indicators.dimension,
        dim_indicators.dimension_name,
        dim_indicators.dimension_order,
        dim_indicators.unit,
        dim_indicators.unit_name,
        latest.area_level,
        latest.area_code,
        areas.area_name,
        coalesce(areas.street_code, case when latest.area_level = 'street' then latest.area_code end)
            as street_code,
        latest.subject_code,
        latest.period_start,
        latest.period_end,
        latest.value,
        latest.detail,
        fct_indicator_values.baseline_median,
        fct_indicator_values.threshold_blue,
        fct_indicator_values.threshold_yellow,
        fct_indicator_values.threshold_orange,
        fct_indicator_values.threshold_red,
        latest.level,
        case latest.level
            when 0 then '绿' when 1 then '蓝' when 2 then '黄' when 3 then '橙' when 4 then '红'
            else '灰'
        end as colour_name,
        case latest.level
            when 0 then '#2E7D32'
            when 1 then '#1565C0'
            when 2 then '#F9A825'
            when 3 then '#EF6C00'
            when 4 then '#C62828'
            else '#9E9E9E'
        end as colour_hex,
        latest.is_in_warning,
        events.warning_id as open_warning_id,
        events.peak_level as open_warning_peak_level

    from latest
    inner join dim_indicators
        on latest.indicator_code = dim_indicators.indicator_code
    inner join fct_indicator_values
        on
            latest.indicator_code = fct_indicator_values.indicator_code
            and latest.area_level = fct_indicator_values.area_level
            and latest.area_code = fct_indicator_values.area_code
            and latest.subject_code = fct_indicator_values.subject_code
            and latest.period_start = fct_indicator_values.period_start
    left join int_vital_areas as areas
        on latest.area_level = areas.area_level and latest.area_code = areas.area_code
    left join fct_warning_events as events
        on
            latest.indicator_code = events.indicator_code
            and latest.area_level = events.area_level
            and latest.area_code = events.area_code
            and latest.subject_code = events.subject_code
            and events.is_open

)

select * from final
