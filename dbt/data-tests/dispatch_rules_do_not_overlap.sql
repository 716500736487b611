-- 派单字典 versions of one matter never overlap: at most one rule is in force on any day.
with

dispatch_rules as (

    select * from {{ ref('dispatch_rules') }}

)

select
    earlier.rule_id as earlier_rule_id,
    later.rule_id as later_rule_id
from dispatch_rules as earlier
inner join dispatch_rules as later
    on
        earlier.matter_code = later.matter_code
        and earlier.rule_id < later.rule_id
        and earlier.valid_from < coalesce(later.valid_to, date '9999-12-31')
        and later.valid_from < coalesce(earlier.valid_to, date '9999-12-31')
