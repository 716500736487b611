{#-
    空气质量分指数 (IAQI) of every concentration, HJ 633-2012 formula (1), against the
    breakpoints of table 1 of the standard that grades the row (column aqi_standard:
    HJ 633-2012 or HJ 633-2026) in the seed aqi_breakpoints (their only copy):

        IAQI = (IAQI_hi − IAQI_lo) / (BP_hi − BP_lo) × (C − BP_lo) + IAQI_lo, 进位取整

    A concentration falls in the row with BP_lo < C ≤ BP_hi (C = 0 in the first row), so a
    concentration on a breakpoint gets exactly that breakpoint's IAQI. The arithmetic is
    exact: C is taken to 6 decimals and the product is formed in DECIMAL before the one
    division, so a quotient that is a whole number in theory is one in the double too, and
    rounding up cannot add 1 to it.

    Above a table's highest breakpoint the standard computes no IAQI. Where the table ends
    at the top of the scale (500) the IAQI is capped there; where it ends lower (SO2 1 h at
    800 µg/m³, note 2; O3 8 h at 800 µg/m³, note 3) HJ 633-2026 gives the IAQI of the seed
    aqi_above_table (200 and 300); HJ 633-2012 gives none, and the reports fall back as
    those notes say.
-#}
with

int_air_quality_concentrations as (

    select * from {{ ref('int_air_quality_concentrations') }}

),

aqi_breakpoints as (

    select * from {{ ref('aqi_breakpoints') }}

),

aqi_above_table as (

    select * from {{ ref('aqi_above_table') }}

),

breakpoint_tables as (

    select
        standard,
        pollutant,
        averaging_period,
        max(concentration_high) as table_concentration_high,
        max(iaqi_high) as table_iaqi_high,
        -- The top of the AQI scale: the highest IAQI any row of the standard reaches.
        max(max(iaqi_high)) over (partition by standard) as scale_iaqi_high

    from aqi_breakpoints
    group by standard, pollutant, averaging_period

),

located as (

    select
        int_air_quality_concentrations.*,
        cast(int_air_quality_concentrations.concentration as decimal(18, 6)) as exact_concentration,
        aqi_breakpoints.iaqi_low,
        aqi_breakpoints.iaqi_high,
        aqi_breakpoints.concentration_low,
        aqi_breakpoints.concentration_high,
        breakpoint_tables.table_concentration_high,
        breakpoint_tables.table_iaqi_high,
        breakpoint_tables.scale_iaqi_high,
        aqi_above_table.iaqi as above_table_iaqi

    from int_air_quality_concentrations
    left join breakpoint_tables
        on
            int_air_quality_concentrations.aqi_standard = breakpoint_tables.standard
            and int_air_quality_concentrations.pollutant = breakpoint_tables.pollutant
            and int_air_quality_concentrations.breakpoint_period = breakpoint_tables.averaging_period
    left join aqi_above_table
        on
            int_air_quality_concentrations.aqi_standard = aqi_above_table.standard
            and int_air_quality_concentrations.pollutant = aqi_above_table.pollutant
            and int_air_quality_concentrations.breakpoint_period = aqi_above_table.averaging_period
    left join aqi_breakpoints
        on
            int_air_quality_concentrations.aqi_standard = aqi_breakpoints.standard
            and int_air_quality_concentrations.pollutant = aqi_breakpoints.pollutant
            and int_air_quality_concentrations.breakpoint_period = aqi_breakpoints.averaging_period
            and cast(int_air_quality_concentrations.concentration as decimal(18, 6))
            <= aqi_breakpoints.concentration_high
            and (
                cast(int_air_quality_concentrations.concentration as decimal(18, 6))
                > aqi_breakpoints.concentration_low
                or (
                    cast(int_air_quality_concentrations.concentration as decimal(18, 6)) = 0
                    and aqi_breakpoints.concentration_low = 0
                )
            )

),

final as (

    select
        report_type,
        area_level,
        area_code,
        street_code,
        grid_code,
        period_start_at,
        pollutant,
        concentration_statistic,
        breakpoint_period,
        concentration,
        value_count,
        station_count,
        aqi_standard,
        coalesce(exact_concentration > table_concentration_high, false) as is_above_breakpoints,
        cast(
            case
                when exact_concentration > table_concentration_high and table_iaqi_high = scale_iaqi_high
                    then scale_iaqi_high
                when exact_concentration > table_concentration_high
                    then above_table_iaqi
                when iaqi_low is not null
                    then iaqi_low
                        + ceil(
                            (iaqi_high - iaqi_low) * (exact_concentration - concentration_low)
                            / (concentration_high - concentration_low)
                        )
            end as integer
        ) as iaqi

    from located

)

select * from final
