{#-
    Fails on any value of any text column (lists included) that holds a mobile or fixed-line
    number, a resident ID number, a bank-card-length number, an e-mail address or a licence
    plate, found by pii_scan: quality/pii.py's finder (the DuckDB function that
    plugins/cityops_pii.py registers), with the same normaliser the scrubber uses, so
    `１３９ 1234-5678` is found as surely as `13912345678`. Attach it to every model outside
    the `restricted` schema (tests/unit/test_dbt_project.py checks that it is attached); on
    a staging view over the lake it runs at severity warn (the view is never served, and a
    finding there says a source sends personal data in a column its contract calls
    impersonal: the models that serve the column scrub it).
    Columns named *_key hold keyed SHA-256 pseudonyms: 64 hex characters that by chance
    contain digit runs, so they are skipped (their shape is tested separately).
    A relation without text columns compiles to a query of no rows (`limit 0`); one missing
    at compile time to `… where false`, which the benchmark's baseline reports.
    `row_filter` limits the scan (an incremental model's touched rows); dbt's `where` config
    cannot be used because the test needs the relation to list its columns.
-#}
{% test no_clear_pii(model, row_filter=none) %}

    {%- set text_columns = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(model) -%}
            {%- if 'VARCHAR' in column.dtype | upper and not column.name.endswith('_key') -%}
                {%- do text_columns.append(column) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}

    {%- if text_columns | length == 0 and execute and load_relation(model) is not none %}
        -- The relation has no text column: nothing can hold personal data.
        select null as column_name, null as kinds, null as sample limit 0
    {%- elif text_columns | length == 0 %}
        -- The relation does not exist where the test was compiled (bench/baseline.py flags this).
        select null as column_name, null as kinds, null as sample where false
    {%- else %}
        {%- for column in text_columns %}
            {%- set value = adapter.quote(column.name) if column.dtype | upper == 'VARCHAR'
                else 'cast(' ~ adapter.quote(column.name) ~ ' as varchar)' %}
        -- Distinct values first: a 30-million-row lake column has a few thousand of them
        -- (pii_scan is declared volatile so that DuckDB keeps it above the distinct).
        select
            '{{ column.name }}' as column_name,
            array_to_string(pii_scan(value), ',') as kinds,
            -- Show where, never what: the sample is scrubbed like everything served.
            pii_scrub(value, null) as sample
        from (
            select distinct {{ value }} as value
            from {{ model }}
            where {{ row_filter or 'true' }}
        ) as distinct_values
        where len(pii_scan(value)) > 0
            {{- '\n        union all' if not loop.last }}
        {%- endfor %}
    {%- endif %}

{% endtest %}
