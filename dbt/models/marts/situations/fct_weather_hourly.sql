{#-
    Hourly weather per station with rolling rainfall and the warning signal the
    observations meet. Rainstorm levels use Shanghai's short-duration criteria (🟡 from a
    secondary source, domain.md §3.3: 蓝 1 h > 35 mm or 6 h > 50 mm, 黄 1 h > 50 or 6 h > 80,
    橙 1 h > 80 or 6 h > 100; 红 not captured). Heat levels use the hour's temperature
    (黄 ≥ 35 °C, 橙 ≥ 37, 红 ≥ 40 — the national 24 h maxima, applied hourly as a signal of
    the day's conditions, not as an issued warning).
-#}
with

stg_weather__observations as (

    select * from {{ ref('stg_weather__observations') }}

),

latest as (

    -- A station-hour delivered twice keeps its newest delivery.
    select *
    from stg_weather__observations
    qualify row_number() over (
            partition by station_id, observed_at
            order by delivery_date desc, source_file desc, source_record_number desc
        ) = 1

),

rolling as (

    select
        *,
        sum(precipitation_mm) over (
            partition by station_id
            order by observed_at
            range between interval 2 hours preceding and current row
        ) as precipitation_3h_mm,
        sum(precipitation_mm) over (
            partition by station_id
            order by observed_at
            range between interval 5 hours preceding and current row
        ) as precipitation_6h_mm

    from latest

),

final as (

    select
        station_id,
        -- Texts the source sends pass the PII scrubber (quality/pii.py) before they are served.
        {{ scrub_free_text('station_name') }} as station_name,
        observed_at,
        cast(observed_at as date) as observed_date,
        temperature_c,
        humidity_pct,
        precipitation_mm,
        round(precipitation_3h_mm, 1) as precipitation_3h_mm,
        round(precipitation_6h_mm, 1) as precipitation_6h_mm,
        wind_speed_ms,
        wind_direction_deg,
        pressure_hpa,
        visibility_km,
        case
            when precipitation_mm > 80 or precipitation_6h_mm > 100 then '橙'
            when precipitation_mm > 50 or precipitation_6h_mm > 80 then '黄'
            when precipitation_mm > 35 or precipitation_6h_mm > 50 then '蓝'
        end as rainstorm_signal,
        case
            when temperature_c >= 40 then '红'
            when temperature_c >= 37 then '橙'
            when temperature_c >= 35 then '黄'
        end as heat_signal,
        delivery_date

    from rolling

)

select * from final
