{#-
    城市生命体征指标值 (long form): every indicator's value per area, subject and period, with
    its baseline, the four thresholds in force and the level reached. One row per
    (indicator_code, area_level, area_code, subject_code, period_start).

    Levels: 0 normal, 1 蓝, 2 黄, 3 橙, 4 红; null when the value is missing or a baseline
    threshold has no baseline yet. Baselines (threshold kinds baseline_sigma and
    baseline_ratio) use the earlier periods of the same series within `baseline_weeks`
    weeks, at the same hour of day (hourly indicators) and of the same day type:
      * a regular day is compared with the same weekday, if at least `baseline_min_peers`
        such days exist;
      * a 法定节假日 or 调休 make-up day, or a regular day with too few same-weekday peers, is
        compared with every day of its type (rest day or workday);
      * fewer than `baseline_min_peers` peers of either kind: no baseline, no level.
    The baseline is robust: its centre is the peers' median and its spread 1.4826 × their
    median absolute deviation (σ for normal data, unmoved by one storm day among the peers),
    at least `sigma_floor`, and for counts at least √median (Poisson noise). A level k of
    baseline_sigma is median ± k × spread, of baseline_ratio median × k; `min_change` widens
    all of them in proportion until the lowest is at least that far from the median; `guard`
    is the least value any level needs.
-#}
{%- set models = [
    'int_vital_signs__weather',
    'int_vital_signs__traffic',
    'int_vital_signs__environment',
    'int_vital_signs__safety',
    'int_vital_signs__opinion',
    'int_vital_signs__livelihood',
    'int_vital_signs__economy',
    'int_vital_signs__utilities',
] -%}
{%- set levels = [('blue', 1), ('yellow', 2), ('orange', 3), ('red', 4)] -%}

with

dim_indicators as (

    select * from {{ ref('dim_indicators') }}

),

int_vital_periods as (

    select * from {{ ref('int_vital_periods') }}

),

{% for model in models %}
    {{ model }} as (

        select * from {{ ref(model) }}

    ),

{% endfor %}
unioned as (

    {% for model in models %}
        select
            indicator_code,
            area_level,
            area_code,
            subject_code,
            period_start,
            cast(value as double) as value,
            detail,
            event_times,
            '{{ model }}' as source_model
        from {{ model }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {% endfor %}

),

measured as (

    -- Only registered indicators at their registered area levels, over the observed window.
    select
        unioned.*,
        periods.period_end,
        periods.period_date,
        periods.hour_of_day,
        periods.iso_weekday,
        periods.is_workday,
        periods.is_irregular_day,
        dim_indicators.dimension,
        dim_indicators.grain,
        dim_indicators.direction,
        dim_indicators.threshold_kind,
        dim_indicators.is_inclusive,
        dim_indicators.threshold_blue,
        dim_indicators.threshold_yellow,
        dim_indicators.threshold_orange,
        dim_indicators.threshold_red,
        dim_indicators.threshold_guard,
        dim_indicators.sigma_floor,
        dim_indicators.min_change,
        dim_indicators.unit,
        dim_indicators.baseline_weeks,
        dim_indicators.baseline_min_peers
    from unioned
    inner join dim_indicators
        on
            unioned.indicator_code = dim_indicators.indicator_code
            and list_contains(string_split(dim_indicators.area_levels, ','), unioned.area_level)
    inner join int_vital_periods as periods
        on
            dim_indicators.grain = periods.grain
            and unioned.period_start = periods.period_start

),

peers as (

    select
        target_period.indicator_code,
        target_period.area_level,
        target_period.area_code,
        target_period.subject_code,
        target_period.period_start,
        peer.value,
        not target_period.is_irregular_day
        and not peer.is_irregular_day
        and peer.iso_weekday = target_period.iso_weekday as is_same_weekday
    from measured as target_period
    inner join measured as peer
        on
            target_period.indicator_code = peer.indicator_code
            and target_period.area_level = peer.area_level
            and target_period.area_code = peer.area_code
            and target_period.subject_code = peer.subject_code
            and target_period.period_start > peer.period_start
            and peer.period_start >= target_period.period_start - to_days(7 * target_period.baseline_weeks)
            and coalesce(peer.hour_of_day, -1) = coalesce(target_period.hour_of_day, -1)
            and target_period.is_workday = peer.is_workday
    where target_period.threshold_kind <> 'fixed' and peer.value is not null

),

peer_stats as (

    select
        indicator_code,
        area_level,
        area_code,
        subject_code,
        period_start,
        count(*) filter (where is_same_weekday) as weekday_peers,
        median(value) filter (where is_same_weekday) as weekday_median,
        mad(value) filter (where is_same_weekday) as weekday_mad,
        count(*) as day_type_peers,
        median(value) as day_type_median,
        mad(value) as day_type_mad
    from peers
    group by all

),

with_baseline as (

    select
        measured.*,
        case
            when measured.threshold_kind = 'fixed' then null
            when peer_stats.weekday_peers >= measured.baseline_min_peers then 'same_weekday'
            when peer_stats.day_type_peers >= measured.baseline_min_peers then 'same_day_type'
            else 'insufficient'
        end as baseline_method,
        case
            when peer_stats.weekday_peers >= measured.baseline_min_peers
                then peer_stats.weekday_peers
            else coalesce(peer_stats.day_type_peers, 0)
        end as baseline_peers,
        case
            when peer_stats.weekday_peers >= measured.baseline_min_peers
                then peer_stats.weekday_median
            when peer_stats.day_type_peers >= measured.baseline_min_peers
                then peer_stats.day_type_median
        end as baseline_median,
        1.4826 * case
            when peer_stats.weekday_peers >= measured.baseline_min_peers
                then peer_stats.weekday_mad
            when peer_stats.day_type_peers >= measured.baseline_min_peers
                then peer_stats.day_type_mad
        end as robust_spread
    from measured
    left join peer_stats
        on
            measured.indicator_code = peer_stats.indicator_code
            and measured.area_level = peer_stats.area_level
            and measured.area_code = peer_stats.area_code
            and measured.subject_code = peer_stats.subject_code
            and measured.period_start = peer_stats.period_start

),

with_spread as (

    select
        *,
        case
            when baseline_median is not null
                then greatest(
                        robust_spread,
                        sigma_floor,
                        case when unit in ('count', 'devices') then sqrt(greatest(baseline_median, 0)) else 0 end
                    )
        end as baseline_spread,
        case when direction = 'higher_is_worse' then 1 else -1 end as worse_sign
    from with_baseline

),

with_thresholds as (

    select
        *,
        {% for colour, _ in levels %}
            case
                when threshold_kind = 'fixed' then threshold_{{ colour }}
                when threshold_kind = 'baseline_sigma'
                    then baseline_median + worse_sign * threshold_{{ colour }} * baseline_spread
                else baseline_median * threshold_{{ colour }}
            end as raw_threshold_{{ colour }},
        {% endfor %}
        -- How far the lowest level set lies from the median (the baseline kinds).
        abs(
            case
                when threshold_kind = 'baseline_sigma'
                    then coalesce(threshold_blue, threshold_yellow, threshold_orange, threshold_red)
                        * baseline_spread
                else
                    baseline_median
                    * (coalesce(threshold_blue, threshold_yellow, threshold_orange, threshold_red) - 1)
            end
        ) as lowest_distance
    from with_spread

),

widened as (

    -- min_change: every level moves away from the median by the same factor, so the lowest
    -- is at least min_change away and the levels keep their order and spacing.
    select
        *,
        case
            when threshold_kind = 'fixed' or min_change is null or lowest_distance >= min_change then 1
            when lowest_distance = 0 then null
            else min_change / lowest_distance
        end as widening
    from with_thresholds

),

guarded as (

    select
        *,
        {% for colour, _ in levels %}
            round(
                case
                    when threshold_kind = 'fixed' or raw_threshold_{{ colour }} is null
                        then raw_threshold_{{ colour }}
                    when direction = 'higher_is_worse'
                        then greatest(
                                baseline_median + widening * (raw_threshold_{{ colour }} - baseline_median),
                                coalesce(threshold_guard, cast('-infinity' as double))
                            )
                    else least(
                            baseline_median + widening * (raw_threshold_{{ colour }} - baseline_median),
                            coalesce(threshold_guard, cast('infinity' as double))
                        )
                end,
                4
            ) as level_threshold_{{ colour }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from widened

),

levelled as (

    select
        *,
        case
            when value is null then null
            when threshold_kind <> 'fixed' and baseline_median is null then null
            {% for colour, number in levels | reverse %}
                when {{ vital_threshold_reached('level_threshold_' ~ colour) }} then {{ number }}
            {% endfor %}
            else 0
        end as level
    from guarded

),

final as (

    select
        indicator_code,
        dimension,
        area_level,
        area_code,
        subject_code,
        grain,
        period_start,
        period_end,
        period_date,
        value,
        detail,
        baseline_method,
        baseline_peers,
        round(baseline_median, 4) as baseline_median,
        round(baseline_spread, 4) as baseline_spread,
        {% for colour, _ in levels %}
            level_threshold_{{ colour }} as threshold_{{ colour }},
        {% endfor %}
        level,
        -- When the level was reached within the period, for counts of timed events (alarms,
        -- reports): the time of the event that brought the count to the level's threshold
        -- (the k-th, k = ⌈threshold⌉, or ⌊threshold⌋ + 1 when strict). Null otherwise: the
        -- level is known when the period's data is complete.
        case
            when level >= 1 and direction = 'higher_is_worse' and event_times is not null
                then event_times[
                        cast(
                            greatest(
                                case
                                    when is_inclusive then ceil(reached_threshold) else floor(reached_threshold) + 1
                                end,
                                1
                            ) as bigint
                        )
                    ]
        end as occurred_at,
        source_model

    from (
        select
            *,
            case level
                {% for colour, number in levels %}
                    when {{ number }} then level_threshold_{{ colour }}
                {% endfor %}
            end as reached_threshold
        from levelled
    ) as with_reached

)

select * from final
