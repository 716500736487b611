{#- A pseudonym column holds 64 lower-case hex characters (SHA-256) or nothing. -#}
{% test is_keyed_hash(model, column_name) %}

    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null and not regexp_full_match({{ column_name }}, '[0-9a-f]{64}')

{% endtest %}
