{#-
    Fails on any value of any text column (lists included) that looks like a mobile number,
    a fixed line or an 18-character resident ID number. Attach it to every model outside
    the `restricted` schema (tests/unit/test_dbt_project.py checks that it is attached).
    Columns named *_key hold keyed SHA-256 pseudonyms: 64 hex characters that by chance
    contain digit runs, so they are skipped (their shape is tested separately).
    `row_filter` limits the scan (an incremental model's touched rows); dbt's `where` config
    cannot be used because the test needs the relation to list its columns.
-#}
{% test no_clear_pii(model, row_filter=none) %}

    {%- set patterns = pii_scan_patterns() -%}
    {%- set text_columns = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(model) -%}
            {%- if 'VARCHAR' in column.dtype | upper and not column.name.endswith('_key') -%}
                {%- do text_columns.append(column) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}

    {%- if text_columns | length == 0 %}
        select null as column_name, null as pattern, null as sample where false
    {%- else %}
        {%- for column in text_columns %}
            {%- set value = adapter.quote(column.name) if column.dtype | upper == 'VARCHAR'
                else 'cast(' ~ adapter.quote(column.name) ~ ' as varchar)' %}
        -- Distinct values first: a 30-million-row lake column has a few thousand of them.
        select
            '{{ column.name }}' as column_name,
            case
                {%- for pattern_name, pattern in patterns.items() %}
                when regexp_matches(value, '{{ pattern }}') then '{{ pattern_name }}'
                {%- endfor %}
            end as pattern,
            -- Show where, never what: the sample is masked like everything else.
            regexp_replace(value, '[0-9]', '#', 'g') as sample
        from (
            select distinct {{ value }} as value
            from {{ model }}
            where {{ row_filter or 'true' }}
        ) as distinct_values
        where
            {%- for pattern in patterns.values() %}
            {{ 'or ' if not loop.first }}regexp_matches(value, '{{ pattern }}')
            {%- endfor %}
            {{- '\n        union all' if not loop.last }}
        {%- endfor %}
    {%- endif %}

{% endtest %}
