{#- Pseudonymised: built as a table because the keyed hash needs dbt's session key. -#}
with

stg_business__enterprises as (

    select * from {{ ref('stg_business__enterprises') }}

),

stg_business__enterprise_licences as (

    select * from {{ ref('stg_business__enterprise_licences') }}

),

streets as (

    select * from {{ ref('streets') }}

),

latest as (

    -- The newest approval (核准日期) wins; the newest delivery breaks ties.
    select
        *,
        min(delivery_date) over (partition by uscc) as first_delivery_date

    from stg_business__enterprises
    qualify row_number() over (
            partition by uscc
            order by approved_date desc, delivery_date desc, source_record_number desc
        ) = 1

),

located_input as (

    select
        latest.uscc,
        latest.address,
        streets.street_code

    from latest
    left join streets
        on latest.street_name = streets.street_name

),

located as (

    {{ locate_addresses('located_input', ['uscc']) }}

),

licence_counts as (

    select
        uscc,
        count(distinct licence_number) as licence_count

    from stg_business__enterprise_licences
    group by uscc

),

final as (

    select
        latest.uscc,
        -- Texts the source sends pass the PII scrubber (quality/pii.py) before they are served.
        {{ scrub_free_text('latest.enterprise_name') }} as enterprise_name,
        latest.enterprise_type,
        latest.industry_section,
        latest.registered_capital_10k_yuan,
        latest.established_date,
        latest.registration_status,
        latest.registration_status in ('存续', '在业', '迁入') as is_active,
        {{ mask_name('latest.legal_representative') }} as legal_representative_masked,
        {{ pii_hash('latest.legal_representative', 'person_name') }} as legal_representative_key,
        {{ mask_address('latest.address') }} as address_masked,
        located_input.street_code,
        located.road_name,
        located.grid_code,
        located.grid_match_method,
        {{ scrub_free_text('latest.registration_authority') }} as registration_authority,
        latest.approved_date,
        coalesce(licence_counts.licence_count, 0) as licence_count,
        latest.first_delivery_date,
        latest.delivery_date as last_delivery_date

    from latest
    left join located_input
        on latest.uscc = located_input.uscc
    left join located
        on latest.uscc = located.uscc
    left join licence_counts
        on latest.uscc = licence_counts.uscc

)

select * from final
