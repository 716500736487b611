{#- Pseudonymised: built as a table because the keyed hash needs dbt's session key. -#}
with

stg_iot__devices as (

    select * from {{ ref('stg_iot__devices') }}

),

meters as (

    -- The newest registry snapshot of every water meter with a resident on record.
    select *
    from stg_iot__devices
    where device_type = 'water_meter' and resident_id_number is not null
    qualify row_number() over (
            partition by device_id order by delivery_date desc, source_record_number desc
        ) = 1

),

final as (

    select
        {{ pii_hash('upper(resident_id_number)', 'id_number') }} as resident_key,
        device_id,
        {{ mask_name('resident_name') }} as resident_name_masked,
        {{ mask_phone('resident_phone') }} as resident_phone_masked,
        {{ phone_kind('resident_phone') }} as resident_phone_kind,
        {{ mask_id_number('resident_id_number') }} as resident_id_number_masked,
        {{ id_number_is_valid('resident_id_number') }} as is_id_number_valid,
        -- GB 11643: an odd 17th digit is male, an even one female.
        case
            when not regexp_full_match(resident_id_number, '{{ id_number_pattern() }}') then null
            when cast(substr(resident_id_number, 17, 1) as integer) % 2 = 1 then '男'
            else '女'
        end as gender,
        -- Ten-year bands, not the birth date: enough for care planning (e.g. 80-89).
        case
            when regexp_full_match(resident_id_number, '{{ id_number_pattern() }}')
                then
                    cast(
                        (year(delivery_date) - cast(substr(resident_id_number, 7, 4) as integer))
                        // 10 * 10 as varchar
                    )
                    || '-'
                    || cast(
                        (year(delivery_date) - cast(substr(resident_id_number, 7, 4) as integer))
                        // 10 * 10 + 9 as varchar
                    )
        end as age_band,
        street_code,
        grid_code,
        device_status as meter_status,
        delivery_date as registry_date

    from meters

)

select * from final
