{#-
    Lifecycle order: for every pair of the listed timestamps that are both present, the
    earlier column is not after the later one (受理 ≤ 派单 ≤ 签收 ≤ 办结 …).
-#}
{% test timestamps_in_order(model, columns) %}

    {%- set pairs = [] -%}
    {%- for earlier in columns -%}
        {%- for later in columns[loop.index:] -%}
            {%- do pairs.append(earlier ~ ' > ' ~ later) -%}
        {%- endfor -%}
    {%- endfor %}

    select *
    from {{ model }}
    where {{ pairs | join(' or ') }}

{% endtest %}
