{#-
    空气质量日报 (HJ 633-2012 or, from CITYOPS_AQI_HJ633_2026_FROM, HJ 633-2026) for every air
    station, street and the district.

    SO2, NO2, PM10, CO and PM2.5 are indexed by their 24-hour means against their 24-hour
    rows of table 1 (note 1: the 1-hour rows are for the hourly report only); O3 twice, by
    its daily maximum 1-hour mean against the 1-hour rows and by its daily maximum 8-hour
    moving mean against the 8-hour rows. Table 1 note 3: above the 8-hour O3 rows
    (800 µg/m³) HJ 633-2012 computes no 8-hour IAQI and O3 counts through its 1-hour IAQI;
    HJ 633-2026 gives the 8-hour O3 IAQI 300.
-#}
with

int_air_quality_sub_indices as (

    select * from {{ ref('int_air_quality_sub_indices') }}

),

aqi_levels as (

    select * from {{ ref('aqi_levels') }}

),

complete_hours as (

    -- Hours with a 1-hour mean of all six pollutants. GB 3095-2012 table 4 asks for at
    -- least 20 hourly means a day for a valid 24-hour mean.
    select
        area_level,
        area_code,
        cast(period_start_at as date) as stat_date,
        count(*) as valid_hour_count

    from (
        select
            area_level,
            area_code,
            period_start_at

        from int_air_quality_sub_indices
        where report_type = 'hourly' and concentration_statistic = '1h_mean'
        group by area_level, area_code, period_start_at
        having count(distinct pollutant) = 6
    ) as hours
    group by area_level, area_code, cast(period_start_at as date)

),

pivoted as (

    select
        area_level,
        area_code,
        street_code,
        grid_code,
        cast(period_start_at as date) as stat_date,
        max(station_count) as station_count,
        max(concentration) filter (where pollutant = 'so2') as so2_24h_ug_m3,
        max(concentration) filter (where pollutant = 'no2') as no2_24h_ug_m3,
        max(concentration) filter (where pollutant = 'pm10') as pm10_24h_ug_m3,
        max(concentration) filter (where pollutant = 'co') as co_24h_mg_m3,
        max(concentration) filter (where pollutant = 'o3' and breakpoint_period = '1h') as o3_1h_max_ug_m3,
        max(concentration) filter (where pollutant = 'o3' and breakpoint_period = '8h') as o3_8h_max_ug_m3,
        max(concentration) filter (where pollutant = 'pm25') as pm25_24h_ug_m3,
        max(value_count) filter (where pollutant = 'o3' and breakpoint_period = '8h') as o3_8h_window_count,
        coalesce(
            bool_or(is_above_breakpoints) filter (where pollutant = 'o3' and breakpoint_period = '8h'),
            false
        ) as is_o3_8h_above_breakpoints,
        max(iaqi) filter (where pollutant = 'so2') as so2_iaqi,
        max(iaqi) filter (where pollutant = 'no2') as no2_iaqi,
        max(iaqi) filter (where pollutant = 'pm10') as pm10_iaqi,
        max(iaqi) filter (where pollutant = 'co') as co_iaqi,
        max(iaqi) filter (where pollutant = 'o3' and breakpoint_period = '1h') as o3_1h_iaqi,
        -- Above the 8-hour rows (note 3): null under HJ 633-2012, and O3 then counts through
        -- o3_1h_iaqi alone; 300 under HJ 633-2026.
        max(iaqi) filter (where pollutant = 'o3' and breakpoint_period = '8h') as o3_8h_iaqi,
        max(iaqi) filter (where pollutant = 'pm25') as pm25_iaqi,
        -- Every row of a day is graded by the same standard.
        max(aqi_standard) as aqi_standard

    from int_air_quality_sub_indices
    where report_type = 'daily'
    group by area_level, area_code, street_code, grid_code, cast(period_start_at as date)

),

aggregated as (

    select
        *,
        -- AQI = the largest IAQI (HJ 633-2012); greatest() skips missing pollutants.
        greatest(so2_iaqi, no2_iaqi, pm10_iaqi, co_iaqi, o3_1h_iaqi, o3_8h_iaqi, pm25_iaqi) as aqi

    from pivoted

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
            case when o3_8h_iaqi = aqi then 'o3_8h' end,
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
        attributed.stat_date,
        attributed.station_count,
        coalesce(complete_hours.valid_hour_count, 0) as valid_hour_count,
        coalesce(complete_hours.valid_hour_count, 0) >= 20 as has_enough_valid_hours,
        attributed.so2_24h_ug_m3,
        attributed.no2_24h_ug_m3,
        attributed.pm10_24h_ug_m3,
        attributed.co_24h_mg_m3,
        attributed.o3_1h_max_ug_m3,
        attributed.o3_8h_max_ug_m3,
        attributed.pm25_24h_ug_m3,
        attributed.o3_8h_window_count,
        attributed.so2_iaqi,
        attributed.no2_iaqi,
        attributed.pm10_iaqi,
        attributed.co_iaqi,
        attributed.o3_1h_iaqi,
        attributed.o3_8h_iaqi,
        attributed.pm25_iaqi,
        attributed.is_o3_8h_above_breakpoints,
        attributed.aqi_standard,
        attributed.aqi,
        -- 首要污染物 (HJ 633-2012): named only when the AQI is above 50.
        case when attributed.aqi > 50 then attributed.pollutants_at_aqi end as primary_pollutant,
        aqi_levels.aqi_level,
        aqi_levels.aqi_category,
        aqi_levels.aqi_colour

    from attributed
    left join complete_hours
        on
            attributed.area_level = complete_hours.area_level
            and attributed.area_code = complete_hours.area_code
            and attributed.stat_date = complete_hours.stat_date
    left join aqi_levels
        on attributed.aqi between aqi_levels.aqi_low and aqi_levels.aqi_high

)

select * from final
