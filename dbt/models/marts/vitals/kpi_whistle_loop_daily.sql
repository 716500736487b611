{#- 数字吹哨闭环考核日表: the loop's measures by opening day, street and responsible unit. -#}
with

fct_whistle_orders as (

    select * from {{ ref('fct_whistle_orders') }}

),

final as (

    {{ whistle_loop_measures('day') }}

)

select * from final
