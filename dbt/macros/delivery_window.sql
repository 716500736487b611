{#-
    The incremental strategy of every incremental model: `delivery_window`.

    A delivery day's files are the complete statement of that day, so a re-sent day replaces
    what the day said before, and a record it no longer carries is withdrawn. A build over a
    window of delivery days therefore replaces a *slice* of each incremental table:

    - the rows the table holds from the window's deliveries: every row whose delivery span
      (config `delivery_span`, default `first_delivery_date` … `last_delivery_date`: the lake
      partitions the row was derived from) overlaps the window, and every row of the static
      predicate `always_rebuilt` (rows that follow more than their own deliveries, such as an
      open order whose overdue flag moves with the data cut-off);
    - the rows the model's result holds, matched on `unique_key` (one column: the slice key,
      a delivery day, an order, an hour …).

    A live run narrows the slice of a model with config `hours_from` (its hour column) to the
    hours from `CITYOPS_HOURS_FROM` on (dbt/macros/lake.sql); the model must bound its
    result the same way.

    Both are deleted and the model's result is inserted. The model must recompute every key
    of `window_slice(...)` from all its data (it may recompute more); a key it finds no data
    for any more is deleted and not inserted again: the withdrawal reaches the table. A full
    build and any sequence of window builds over the same lake then give the same table
    (tests/integration/test_dbt_incremental.py).
-#}

{#- The strategy: delete the slice, insert the model's result. -#}
{% macro get_incremental_delivery_window_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- if key is not string -%}
        {{ exceptions.raise_compiler_error(
            "delivery_window: unique_key must be one column (the slice key), not " ~ key
        ) }}
    {%- endif -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where
        {{ delivery_slice(target) }}
        or {{ key }} in (select distinct {{ key }} from {{ source }});

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
{%- endmacro %}

{#- The keys (or other columns) of the rows this model's table holds in the build's slice. -#}
{% macro window_slice(columns) -%}
    select {{ columns }}
    from {{ this }}
    where {{ delivery_slice(this) }}
{%- endmacro %}

{#- True for a row of `relation` (this model's table) in the build's slice. A table made before
    its model recorded a delivery span (a warehouse built by an older version) is wholly in the
    slice once; a row whose span is null belongs to every window. -#}
{% macro delivery_slice(relation) -%}
    {#- Read when executing only: while parsing (and linting) the configs are not final. -#}
    {%- set span = ['first_delivery_date', 'last_delivery_date'] -%}
    {%- set always = none -%}
    {%- set hour_column = none -%}
    {%- set names = span -%}
    {%- if execute -%}
        {%- set span = config.get('delivery_span', span) -%}
        {%- set always = config.get('always_rebuilt') -%}
        {%- set hour_column = config.get('hours_from') -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
    {%- endif -%}
    {%- if span[0] not in names or span[1] not in names -%}
        true
    {%- else -%}
        (({{ delivery_span_in_window(span[0], span[1]) }}){% if always %} or ({{ always }}){% endif %})
        {%- if hour_column %} and {{ hours_from(hour_column) }}{% endif %}
    {%- endif -%}
{%- endmacro %}

{#- True for a delivery span (first … last delivery day) that overlaps the build window. -#}
{% macro delivery_span_in_window(first_column, last_column) -%}
    {%- set min_dt = window_bound('min_dt') -%}
    {%- set max_dt = window_bound('max_dt') -%}
    {%- if min_dt is none and max_dt is none -%}
        true
    {%- else -%}
        coalesce({{ first_column }} <= cast('{{ max_dt or min_dt }}' as date), true)
        and coalesce({{ last_column }} >= cast('{{ min_dt or max_dt }}' as date), true)
    {%- endif -%}
{%- endmacro %}
