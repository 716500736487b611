{#-
    自动化派单建议一致率 by month, street and matter: how often the 派单字典's proposal names
    the unit the order was first dispatched to, and gives its deadline day. Counted in the
    month of the proposal's basis (the first dispatch; the acceptance while undispatched).
    Numerators and denominators are kept, so the overall rate, a matter's or a street's is
    sum(agreeing) / sum(compared), never an average of rates.
-#}
with

fct_hotline_dispatch_proposals as (

    select * from {{ ref('fct_hotline_dispatch_proposals') }}

),

aggregated as (

    select
        cast(date_trunc('month', proposal_basis_at) as date) as stat_month,
        street_code,
        matter_code,
        matter_category,
        matter_subcategory,
        count(*) as total_orders,
        count(*) filter (where has_proposal) as proposed_orders,
        count(*) filter (where first_dispatched_at is not null) as dispatched_orders,
        count(unit_agrees) as compared_orders,
        count(*) filter (where unit_agrees) as agreeing_orders,
        count(deadline_agrees) as deadline_compared_orders,
        count(*) filter (where deadline_agrees) as deadline_agreeing_orders

    from fct_hotline_dispatch_proposals
    group by stat_month, street_code, matter_code, matter_category, matter_subcategory

),

final as (

    select
        stat_month,
        street_code,
        matter_code,
        matter_category,
        matter_subcategory,
        cast(total_orders as integer) as total_orders,
        cast(proposed_orders as integer) as proposed_orders,
        cast(dispatched_orders as integer) as dispatched_orders,
        cast(compared_orders as integer) as compared_orders,
        cast(agreeing_orders as integer) as agreeing_orders,
        round(agreeing_orders / nullif(compared_orders, 0), 4) as agreement_rate,
        cast(deadline_compared_orders as integer) as deadline_compared_orders,
        cast(deadline_agreeing_orders as integer) as deadline_agreeing_orders,
        round(deadline_agreeing_orders / nullif(deadline_compared_orders, 0), 4)
            as deadline_agreement_rate

    from aggregated

)

select * from final
