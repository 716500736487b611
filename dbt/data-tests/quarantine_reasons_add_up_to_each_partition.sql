-- The per-reason rows of a partition add up to the partition's quarantined rows.
with

fct_quarantine_daily as (

    select * from {{ ref('fct_quarantine_daily') }}

)

select
    table_name,
    delivery_date,
    sum(rows_quarantined) as rows_by_reason,
    any_value(rows_quarantined_all_reasons) as rows_quarantined_all_reasons
from fct_quarantine_daily
group by table_name, delivery_date
having sum(rows_quarantined) != any_value(rows_quarantined_all_reasons)
