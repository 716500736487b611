{#-
    The listed columns together identify a row.

    Two passes: the first groups by one fixed-width hash of the columns, which DuckDB spills
    to disk under its memory limit; the second groups the real columns of the rows whose hash
    came up more than once (none, when the test passes). The result is exactly that of one
    `group by` on the columns: a key that repeats always repeats its hash, and a collision of
    two keys' hashes only adds rows the second pass then counts once each. Grouping a year's
    365 M readings by their text columns directly ran out of memory with a 2.5GB limit and took
    87 s with 4GB; this takes 31 s with either (docs/performance.md).
-#}
{% test unique_combination(model, columns) %}
{%- set key = columns | join(', ') %}

    with repeated_hashes as (
        select hash({{ key }}) as key_hash
        from {{ model }}
        group by key_hash
        having count(*) > 1
    )

    select
        {{ key }},
        count(*) as rows_with_this_key
    from {{ model }}
    where hash({{ key }}) in (select key_hash from repeated_hashes)
    group by {{ key }}
    having count(*) > 1

{% endtest %}
