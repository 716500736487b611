{#-
    Helpers for the vital-sign indicator models (models/intermediate/vitals). Each indicator
    model returns one row per (indicator_code, area_level, area_code, subject_code,
    period_start) with `value` and an optional `detail`; the registry
    (vitals/indicators.yml) names the model that computes each indicator.
-#}

{#- Repeat every row of `relation` once per area level it rolls up to: the district, the
    row's street_code, the row's grid_code. -#}
-- The union this macro renders is indented by its caller; LT02 cannot see that.
-- noqa: disable=LT02
{% macro fan_out_to_areas(relation, levels) -%}
    {%- for level in levels -%}
        {%- if level == 'district' -%}
            {%- set area_code = "'" ~ var("district_code") ~ "'" -%}
        {%- else -%}
            {%- set area_code = level ~ '_code' -%}
        {%- endif %}
    select
        '{{ level }}' as area_level,
        {{ area_code }} as area_code,
        *
    from {{ relation }}
    {%- if level != 'district' %}
    where {{ area_code }} is not null
    {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
-- noqa: enable=LT02

{#- Every (area, period) of the given grain for the given area levels: the dense series an
    indicator reports, so a quiet day is a zero, not a gap. -#}
{% macro vital_spine(grain, levels) -%}
    select
        areas.area_level,
        areas.area_code,
        areas.street_code,
        periods.period_start
    from {{ ref('int_vital_areas') }} as areas
    cross join {{ ref('int_vital_periods') }} as periods
    where
        periods.grain = '{{ grain }}'
        and areas.area_level in ({% for level in levels %}'{{ level }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- A daily count indicator from a relation of reports (street_code, grid_code,
    report_date, report_at): one row per area and day of the window, zero on a quiet day,
    with the reports' times in order (`event_times`, so fct_indicator_values can say when the
    count reached a threshold). A report without a time (a registration date) counts at the
    day's end. -#}
{% macro daily_report_counts(indicator_code, reports, levels) -%}
    select
        '{{ indicator_code }}' as indicator_code,
        spine.area_level,
        spine.area_code,
        '-' as subject_code,
        spine.period_start,
        cast(count(reports.report_date) as double) as value,
        cast(null as varchar) as detail,
        list(
            coalesce(reports.report_at, spine.period_start + interval 1 day) order by reports.report_at
        ) filter (where reports.report_date is not null) as event_times
    from ({{ vital_spine('day', levels) }}) as spine
    left join ({{ fan_out_to_areas(reports, levels) }}) as reports
        on
            spine.area_level = reports.area_level
            and spine.area_code = reports.area_code
            and spine.period_start = cast(reports.report_date as timestamp)
    group by spine.area_level, spine.area_code, spine.period_start
{%- endmacro %}

{#- True when `value` reaches `threshold` in the indicator's direction (columns `direction`
    and `is_inclusive` of dim_indicators): ≥ / > when higher is worse, ≤ / < when lower is. -#}
{% macro vital_threshold_reached(threshold) -%}
    (
        {{ threshold }} is not null
        and case
            when direction = 'higher_is_worse' and is_inclusive then value >= {{ threshold }}
            when direction = 'higher_is_worse' then value > {{ threshold }}
            when is_inclusive then value <= {{ threshold }}
            else value < {{ threshold }}
        end
    )
{%- endmacro %}

{#- Reports for a daily count indicator (street_code, grid_code, report_date, report_at): 12345
    orders of the given matters, by acceptance. Reads the model's `fct_hotline_orders` CTE. -#}
{% macro hotline_reports(matter_codes) -%}
    select
        street_code,
        grid_code,
        accepted_date as report_date,
        accepted_at as report_at
    from fct_hotline_orders
    where matter_code in ('{{ matter_codes | join("', '") }}')
{%- endmacro %}

{#- Grid cases of one case type (部件 or 事件) and the given subcategories, by discovery,
    cancelled cases left out. Reads the model's `fct_grid_cases` CTE. -#}
{% macro grid_case_reports(case_type, subcategory_codes) -%}
    select
        street_code,
        grid_code,
        discovered_date as report_date,
        discovered_at as report_at
    from fct_grid_cases
    where
        case_type = '{{ case_type }}'
        and subcategory_code in ('{{ subcategory_codes | join("', '") }}')
        and not is_cancelled
{%- endmacro %}

{#- Every hour of the window for every device of `devices` (a CTE with device_id), with the
    hourly `measure` (avg_value, max_value, sum_value …) of `metric` as `alias`: null for an
    hour the device sent nothing, so a silent gauge is unknown, not dry. Reads the model's
    `int_vital_periods` and `fct_device_readings_hourly` CTEs. -#}
{% macro device_hour_series(devices, metric, measure, alias) -%}
    select
        {{ devices }}.*,
        periods.period_start as hour_at,
        readings.{{ measure }} as {{ alias }}
    from {{ devices }}
    cross join int_vital_periods as periods
    left join fct_device_readings_hourly as readings
        on
            {{ devices }}.device_id = readings.device_id
            and periods.period_start = readings.hour_at
            and readings.metric = '{{ metric }}'
    where periods.grain = 'hour'
{%- endmacro %}

{#- `arg` of the row with the largest `key`, ties broken by the largest `tiebreak`, so the
    answer never depends on scan order (a full build and a run of daily builds agree);
    rows with a null key are ignored, and a null `arg` of the chosen row is the answer
    (plain arg_max would skip it and answer with another row's). -#}
{% macro arg_max_stable(arg, key, tiebreak) -%}
    arg_max_null({{ arg }}, {'key': {{ key }}, 'tiebreak': {{ tiebreak }}}) filter (where {{ key }} is not null)
{%- endmacro %}
