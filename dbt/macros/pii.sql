{#-
    Personal data: keyed hashes for joins, masked display forms, scrubbed free text.
    Masks follow the de-facto convention of hutool DesensitizedUtil (domain.md §2.4).
    Only models in the `restricted` schema hold clear values; everything else calls these.
-#}

{#- A keyed pseudonym: hex SHA-256 of key || purpose || value.
    This is a secret-prefix keyed hash, not HMAC (DuckDB has no HMAC). Length extension does
    not matter here: the hash is only compared for equality and the key never leaves the
    session. `purpose` separates domains, so a phone pseudonym never equals an ID pseudonym
    of the same digits. The key is the session variable set by plugins/cityops_pii.py. -#}
{% macro pii_hash(expression, purpose) -%}
    case
        when {{ expression }} is null then null
        when getvariable('cityops_pii_key') is null
            then error('cityops_pii_key is not set: run dbt with CITYOPS_PII_KEY')
        else sha256(getvariable('cityops_pii_key') || ':{{ purpose }}:' || {{ expression }})
    end
{%- endmacro %}

{#- Digits only: '021-6435 8170' → '02164358170' (the form that is hashed). -#}
{% macro phone_digits(expression) -%}
    nullif(regexp_replace({{ expression }}, '[^0-9]', '', 'g'), '')
{%- endmacro %}

{#- 手机 1[3-9]\d{9} | 固话 0 + area code + number | 其他. -#}
{% macro phone_kind(expression) -%}
    case
        when {{ expression }} is null then null
        when regexp_full_match({{ phone_digits(expression) }}, '1[3-9][0-9]{9}') then '手机'
        when regexp_full_match({{ phone_digits(expression) }}, '0[1-9][0-9]{8,10}') then '固话'
        else '其他'
    end
{%- endmacro %}

{#- Mobile: first 3 + **** + last 4 (138****5678). Fixed line: first 4 + stars + last 2
    (021-******70). Anything else: all stars but the last 2. -#}
{% macro mask_phone(expression) -%}
    case
        when {{ expression }} is null then null
        when regexp_full_match({{ phone_digits(expression) }}, '1[3-9][0-9]{9}')
            then left({{ phone_digits(expression) }}, 3) || '****' || right({{ phone_digits(expression) }}, 4)
        when length({{ expression }}) > 6
            then left({{ expression }}, 4) || repeat('*', length({{ expression }}) - 6) || right({{ expression }}, 2)
        else repeat('*', greatest(length({{ expression }}) - 2, 0)) || right({{ expression }}, 2)
    end
{%- endmacro %}

{#- Chinese name: the first character, then one star per remaining character (段**). -#}
{% macro mask_name(expression) -%}
    case
        when {{ expression }} is null then null
        else left({{ expression }}, 1) || repeat('*', greatest(length({{ expression }}) - 1, 1))
    end
{%- endmacro %}

{#- Resident ID number: the first character and the last two (3***************2X). -#}
{% macro mask_id_number(expression) -%}
    case
        when {{ expression }} is null then null
        else left({{ expression }}, 1) || repeat('*', greatest(length({{ expression }}) - 3, 1)) || right({{ expression }}, 2)
    end
{%- endmacro %}

{#- Address: every number (弄, 号, 室, 楼 …) becomes ** so only the road and the kind of
    place remain: 江宁路123弄4号502室 → 江宁路**弄**号**室. Scrubbed first, so that numbers
    in other scripts (江宁路１２３弄) and personal data written into the address go too;
    a table-only macro, like scrub_free_text. -#}
{% macro mask_address(expression) -%}
    regexp_replace({{ scrub_free_text(expression) }}, '[0-9]+', '**', 'g')
{%- endmacro %}

{#- The GB 11643-1999 shape of an 18-character resident ID number: a 6-digit area code,
    a YYYYMMDD birth date (1800–2099), a 3-digit sequence and the check character. -#}
{% macro id_number_pattern() -%}
    [1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]
{%- endmacro %}

{#- The ISO 7064 MOD 11-2 check character of the first 17 digits of `expression`
    (GB 11643-1999; domain.md §2.5): R = Σ aᵢ·Wᵢ mod 11 → '10X98765432'[R]. -#}
{% macro id_number_check_character(expression) -%}
    {%- set weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] -%}
    substr('10X98765432', 1 + (
    {%- for weight in weights %}
        {{ '+ ' if not loop.first }}cast(substr({{ expression }}, {{ loop.index }}, 1) as integer) * {{ weight }}
    {%- endfor %}
    ) % 11, 1)
{%- endmacro %}

{#- True when `expression` has the ID shape and its check character is right. -#}
{% macro id_number_is_valid(expression) -%}
    case
        when {{ expression }} is null then null
        when not regexp_full_match({{ expression }}, '{{ id_number_pattern() }}') then false
        else upper(right({{ expression }}, 1)) = {{ id_number_check_character(expression) }}
    end
{%- endmacro %}

{#- Free text with its personal data replaced by placeholders ([手机号], [身份证号], [车牌号],
    [姓名], **号 …): the DuckDB function pii_scrub, which is quality/pii.py's scrub()
    registered on every connection by plugins/cityops_pii.py. It normalises before it
    matches (full-width digits, spaces and dashes inside numbers, +86), and `known_name`
    (e.g. the hotline caller's name) is masked wherever it occurs in the text. Every text a
    source sends passes through it in the first table that serves it; never call it in a
    view (a reader without the function could not read the view). -#}
{% macro scrub_free_text(expression, known_name=none) -%}
    pii_scrub({{ expression }}, {{ known_name if known_name is not none else 'null' }})
{%- endmacro %}
