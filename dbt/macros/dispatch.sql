{#-
    Routing through the 派单字典 (seed dispatch_rules, SCD-2): which rule version is in force,
    and which unit its primary unit code names. Shared by every model that routes an order
    by the dictionary: fct_hotline_orders, fct_hotline_dispatch_proposals, fct_whistle_orders.
-#}

{#- Join condition: `rules` (the dispatch_rules relation or its alias) is the rule of
    `matter_code` in force on the Beijing day of `moment`: valid_from inclusive, valid_to
    exclusive, an empty valid_to still in force. -#}
{% macro dispatch_rule_in_force(rules, matter_code, moment) -%}
    {{ rules }}.matter_code = {{ matter_code }}
    and cast({{ moment }} as date) >= {{ rules }}.valid_from
    and ({{ rules }}.valid_to is null or cast({{ moment }} as date) < {{ rules }}.valid_to)
{%- endmacro %}

{#- The department code a rule's unit code names: S00 (属地) is the street office of
    `street_code`, coded 'S' || street code as in dim_departments; null when the street is
    unknown. -#}
{% macro dispatch_unit_code(unit_code, street_code) -%}
    case when {{ unit_code }} = 'S00' then 'S' || {{ street_code }} else {{ unit_code }} end
{%- endmacro %}
