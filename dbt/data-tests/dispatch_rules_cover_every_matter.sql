-- Every 12345 matter has a dispatch rule in force today (the newest version is open-ended)
-- and that rule agrees with the reference list the sources use (ingestion/reference).
with

hotline_matters as (

    select * from {{ ref('hotline_matters') }}

),

dispatch_rules as (

    select * from {{ ref('dispatch_rules') }}

),

in_force as (

    select *
    from dispatch_rules
    where valid_to is null

)

select
    hotline_matters.matter_code,
    in_force.rule_id,
    hotline_matters.primary_department_code,
    in_force.primary_unit_code,
    hotline_matters.time_limit_workdays as reference_workdays,
    in_force.time_limit_workdays as rule_workdays
from hotline_matters
left join in_force
    on hotline_matters.matter_code = in_force.matter_code
where
    in_force.rule_id is null
    or in_force.primary_unit_code <> hotline_matters.primary_department_code
    or in_force.time_limit_workdays <> hotline_matters.time_limit_workdays
