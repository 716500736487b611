{#-
    空气质量小时报 (实时报, HJ 633-2012 or, from CITYOPS_AQI_HJ633_2026_FROM, HJ 633-2026) for
    every air station, street and the district.

    SO2, NO2, CO and O3 are indexed by their 1-hour means against their 1-hour rows of
    table 1; PM10 and PM2.5 by their 1-hour means against their 24-hour rows (as the national
    real-time release does). Table 1 note 2: above the 1-hour SO2 rows (800 µg/m³), SO2 is
    indexed by its 24-hour mean (here the 24 hours ending with this one) under HJ 633-2012;
    HJ 633-2026 gives it IAQI 200.
-#}
with

int_air_quality_sub_indices as (

    select * from {{ ref('int_air_quality_sub_indices') }}

),

aqi_levels as (

    select * from {{ ref('aqi_levels') }}

),

pivoted as (

    select
        area_level,
        area_code,
        street_code,
        grid_code,
        period_start_at as hour_at,
        max(station_count) filter (where concentration_statistic = '1h_mean') as station_count,
        max(concentration) filter (where pollutant = 'so2' and concentration_statistic = '1h_mean') as so2_1h_ug_m3,
        max(concentration) filter (
            where pollutant = 'so2' and concentration_statistic = 'trailing_24h_mean'
        ) as so2_24h_ug_m3,
        max(concentration) filter (where pollutant = 'no2') as no2_1h_ug_m3,
        max(concentration) filter (where pollutant = 'pm10') as pm10_1h_ug_m3,
        max(concentration) filter (where pollutant = 'co') as co_1h_mg_m3,
        max(concentration) filter (where pollutant = 'o3') as o3_1h_ug_m3,
        max(concentration) filter (where pollutant = 'pm25') as pm25_1h_ug_m3,
        -- Only where the standard gives the 1-hour SO2 no IAQI (HJ 633-2012; HJ 633-2026 gives
        -- 200 above 800 µg/m³).
        coalesce(
            bool_or(is_above_breakpoints and iaqi is null) filter (
                where pollutant = 'so2' and concentration_statistic = '1h_mean'
            ),
            false
        ) as is_so2_from_24h_mean,
        -- Every row of a period is graded by the same standard.
        max(aqi_standard) as aqi_standard,
        max(iaqi) filter (where pollutant = 'so2' and concentration_statistic = '1h_mean') as so2_1h_iaqi,
        max(iaqi) filter (where pollutant = 'so2' and concentration_statistic = 'trailing_24h_mean') as so2_24h_iaqi,
        max(iaqi) filter (where pollutant = 'no2') as no2_iaqi,
        max(iaqi) filter (where pollutant = 'pm10') as pm10_iaqi,
        max(iaqi) filter (where pollutant = 'co') as co_iaqi,
        max(iaqi) filter (where pollutant = 'o3') as o3_1h_iaqi,
        max(iaqi) filter (where pollutant = 'pm25') as pm25_iaqi

    from int_air_quality_sub_indices
    where report_type = 'hourly'
    group by area_level, area_code, street_code, grid_code, period_start_at

),

indexed as (

    select
        *,
        -- Table 1 note 2.
        case when is_so2_from_24h_mean then so2_24h_iaqi else so2_1h_iaqi end as so2_iaqi

    from pivoted

),

aggregated as (

    select
        *,
        -- AQI = the largest IAQI (HJ 633-2012); greatest() skips missing pollutants.
        greatest(so2_iaqi, no2_iaqi, pm10_iaqi, co_iaqi, o3_1h_iaqi, pm25_iaqi) as aqi

    from indexed

),

attributed as (

    select
        *,
        -- Every pollutant whose IAQI is the AQI, in table 1's order.
        concat_ws(
            ',',
            case when so2_iaqi = aqi then 'so2' end,
            case when no2_iaqi = aqi then 'no2' end,
            case when pm10_iaqi = aqi then 'pm10' end,
            case when co_iaqi = aqi then 'co' end,
            case when o3_1h_iaqi = aqi then 'o3_1h' end,
            case when pm25_iaqi = aqi then 'pm25' end
        ) as pollutants_at_aqi

    from aggregated

),

final as (

    select
        attributed.area_level,
        attributed.area_code,
        attributed.street_code,
        attributed.grid_code,
        attributed.hour_at,
        attributed.station_count,
        attributed.so2_1h_ug_m3,
        attributed.so2_24h_ug_m3,
        attributed.no2_1h_ug_m3,
        attributed.pm10_1h_ug_m3,
        attributed.co_1h_mg_m3,
        attributed.o3_1h_ug_m3,
        attributed.pm25_1h_ug_m3,
        attributed.so2_iaqi,
        attributed.no2_iaqi,
        attributed.pm10_iaqi,
        attributed.co_iaqi,
        attributed.o3_1h_iaqi,
        attributed.pm25_iaqi,
        attributed.is_so2_from_24h_mean,
        attributed.aqi_standard,
        attributed.aqi,
        -- 首要污染物 (HJ 633-2012): named only when the AQI is above 50.
        case when attributed.aqi > 50 then attributed.pollutants_at_aqi end as primary_pollutant,
        aqi_levels.aqi_level,
        aqi_levels.aqi_category,
        aqi_levels.aqi_colour

    from attributed
    left join aqi_levels
        on attributed.aqi between aqi_levels.aqi_low and aqi_levels.aqi_high

)

select * from final
