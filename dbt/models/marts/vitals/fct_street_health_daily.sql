{#-
    街镇体征健康分: a 0–100 health score per street, dimension and day. One row per
    (street_code, dimension, stat_date).

    Each indicator of the dimension contributes its worst level of the day in the street:
    the street's own series where the indicator has streets, else the worst of its grids,
    else the district's (weather is district-wide). The score is
        100 − Σ penalty(level),  floored at 0,
    with penalties 蓝 5, 黄 15, 橙 30, 红 50 (var `health_penalties`; 💡 project rule: one red
    indicator halves the score, two ruin it). `worst_level` is what a dimension tile shows.
-#}
{%- set penalties = var('health_penalties') -%}
with

fct_indicator_values as (

    select * from {{ ref('fct_indicator_values') }}

),

dim_indicators as (

    select * from {{ ref('dim_indicators') }}

),

int_vital_areas as (

    select * from {{ ref('int_vital_areas') }}

),

dim_streets as (

    select * from {{ ref('dim_streets') }}

),

daily_levels as (

    select
        values_by_area.indicator_code,
        values_by_area.area_level,
        coalesce(areas.street_code, values_by_area.area_code) as area_street_code,
        values_by_area.period_date,
        max(values_by_area.level) as worst_level
    from fct_indicator_values as values_by_area
    left join int_vital_areas as areas
        on values_by_area.area_level = areas.area_level and values_by_area.area_code = areas.area_code
    group by all

),

window_days as (

    select distinct period_date from fct_indicator_values

),

street_days as (

    select
        streets.street_code,
        streets.street_name,
        dim_indicators.indicator_code,
        dim_indicators.dimension,
        dim_indicators.dimension_name,
        dim_indicators.dimension_order,
        dim_indicators.area_levels,
        window_days.period_date
    from dim_streets as streets
    cross join dim_indicators
    cross join window_days

),

contributions as (

    select
        street_days.*,
        coalesce(
            by_street.worst_level,
            by_grid.worst_level,
            by_district.worst_level
        ) as worst_level
    from street_days
    left join daily_levels as by_street
        on
            by_street.area_level = 'street'
            and street_days.indicator_code = by_street.indicator_code
            and street_days.street_code = by_street.area_street_code
            and street_days.period_date = by_street.period_date
    left join daily_levels as by_grid
        on
            by_grid.area_level = 'grid'
            and street_days.indicator_code = by_grid.indicator_code
            and street_days.street_code = by_grid.area_street_code
            and street_days.period_date = by_grid.period_date
    left join daily_levels as by_district
        on
            by_district.area_level = 'district'
            and street_days.indicator_code = by_district.indicator_code
            and street_days.period_date = by_district.period_date

),

final as (

    select
        street_code,
        any_value(street_name) as street_name,
        dimension,
        any_value(dimension_name) as dimension_name,
        any_value(dimension_order) as dimension_order,
        period_date as stat_date,
        count(*) as indicator_count,
        count(worst_level) as indicators_with_level,
        coalesce(max(worst_level), 0) as worst_level,
        case coalesce(max(worst_level), 0)
            when 0 then '绿' when 1 then '蓝' when 2 then '黄' when 3 then '橙' else '红'
        end as worst_colour_name,
        greatest(
            0,
            100 - sum(
                case worst_level
                    when 1 then {{ penalties['蓝'] }}
                    when 2 then {{ penalties['黄'] }}
                    when 3 then {{ penalties['橙'] }}
                    when 4 then {{ penalties['红'] }}
                    else 0
                end
            )
        ) as health_score

    from contributions
    group by street_code, dimension, period_date

)

select * from final
