{#-
    The grid-case KPIs, one measure per case and KPI, dated by its own 统计口径 and
    attributed to the case's street and responsible unit (see README.md; the formulas are
    common 数字城管 practice, ❓ no Jing'an text was found).
-#}
with

fct_grid_cases as (

    select * from {{ ref('fct_grid_cases') }}

),

data_cutoff as (

    -- The end of the newest delivery day: a case is due once its deadline has passed.
    select cast(max(last_delivery_date) + interval 1 day as timestamp) as data_cutoff_at
    from fct_grid_cases

),

cases as (

    select
        fct_grid_cases.*,
        data_cutoff.data_cutoff_at

    from fct_grid_cases
    cross join data_cutoff

),

measures as (

    -- 立案率: registered / reported (by discovery day); 核实后注销 cases are not registered.
    select
        case_id,
        'registration_rate' as kpi_code,
        discovered_date as stat_date,
        street_code,
        responsible_unit_code as unit_code,
        cast(is_registered as integer) as numerator,
        1 as denominator
    from cases

    union all

    -- 按期结案率: disposed by the deadline / due (by deadline day, due by the data cut-off).
    select
        case_id,
        'on_time_closure_rate' as kpi_code,
        cast(deadline_at as date) as stat_date,
        street_code,
        responsible_unit_code as unit_code,
        cast(coalesce(disposed_at <= deadline_at, false) as integer) as numerator,
        1 as denominator
    from cases
    where deadline_at <= data_cutoff_at

    union all

    -- 返工率: closed cases that failed a check at least once / closed cases (by closing day).
    select
        case_id,
        'rework_rate' as kpi_code,
        cast(closed_at as date) as stat_date,
        street_code,
        responsible_unit_code as unit_code,
        cast(has_rework as integer) as numerator,
        1 as denominator
    from cases
    where closed_at is not null

    union all

    -- 平均处置时长: hours from dispatch to disposal / disposed cases (by disposal day).
    select
        case_id,
        'avg_disposal_hours' as kpi_code,
        cast(disposed_at as date) as stat_date,
        street_code,
        responsible_unit_code as unit_code,
        disposal_hours as numerator,
        1 as denominator
    from cases
    where disposed_at is not null

),

final as (

    select * from measures

)

select * from final
