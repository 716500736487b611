-- Each indicator's values come from the model the registry names, and every indicator a
-- model emits is registered (fct_indicator_values drops unregistered codes, so check the
-- models' own output).
with

dim_indicators as (

    select * from {{ ref('dim_indicators') }}

),

fct_indicator_values as (

    select * from {{ ref('fct_indicator_values') }}

),

emitted as (

    {%- set dimensions = [
        'weather', 'traffic', 'environment', 'safety',
        'opinion', 'livelihood', 'economy', 'utilities',
    ] %}
    {% for dimension in dimensions %}
        select distinct
            indicator_code,
            'int_vital_signs__{{ dimension }}' as source_model
        from {{ ref('int_vital_signs__' ~ dimension) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {% endfor %}

)

select
    emitted.indicator_code,
    emitted.source_model,
    dim_indicators.model_name
from emitted
left join dim_indicators
    on emitted.indicator_code = dim_indicators.indicator_code
where dim_indicators.model_name is distinct from emitted.source_model
