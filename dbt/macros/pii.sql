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
    place remain: 江宁路123弄4号502室 → 江宁路**弄**号**室. -#}
{% macro mask_address(expression) -%}
    regexp_replace({{ expression }}, '[0-9]+', '**', 'g')
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

{#- Free text with embedded personal data replaced by placeholders:
      ID-shaped 18-character numbers → [身份证号], whether or not the check character is
        right: a mistyped ID still points at a person, and a right one proves nothing
        (domain.md §2.5). Any other run of 15 or more digits (legacy 15-digit IDs, bank
        cards) → [长号码];
      mobiles 1[3-9]\d{9} → [手机号]; fixed lines 0xx(x)-xxxxxxx(x) → [固定电话];
      house numbers (123弄, 4号, 502室 …) → **弄, **号, **室.
    RE2 has no look-around, so a digit boundary is matched as a character and put back; a
    pattern is applied twice because two numbers separated by one character share it. -#}
{% macro scrub_free_text(expression) -%}
    {%- set id_number = id_number_pattern() | trim -%}
    {%- set rules = [
        ('(^|[^0-9])(' ~ id_number ~ ')([^0-9]|$)', '\\1[身份证号]\\6'),
        ('(^|[^0-9])(' ~ id_number ~ ')([^0-9]|$)', '\\1[身份证号]\\6'),
        ('[0-9]{15,}[Xx]?', '[长号码]'),
        ('(^|[^0-9])1[3-9][0-9]{9}([^0-9]|$)', '\\1[手机号]\\2'),
        ('(^|[^0-9])1[3-9][0-9]{9}([^0-9]|$)', '\\1[手机号]\\2'),
        ('(^|[^0-9])0[1-9][0-9]{1,2}-?[0-9]{7,8}([^0-9]|$)', '\\1[固定电话]\\2'),
        ('(^|[^0-9])0[1-9][0-9]{1,2}-?[0-9]{7,8}([^0-9]|$)', '\\1[固定电话]\\2'),
        ('[0-9]+(弄|号|室|栋|幢|单元|楼)', '**\\1'),
    ] -%}
    {%- set ns = namespace(sql=expression) -%}
    {%- for pattern, replacement in rules -%}
        {%- set ns.sql = "regexp_replace(" ~ ns.sql ~ ", '" ~ pattern ~ "', '" ~ replacement ~ "', 'g')" -%}
    {%- endfor -%}
    {{ ns.sql }}
{%- endmacro %}

{#- Patterns the PII scan looks for in every text column outside `restricted`. -#}
{% macro pii_scan_patterns() -%}
    {{ return({
        'mobile': '(^|[^0-9])1[3-9][0-9]{9}([^0-9]|$)',
        'fixed_line': '(^|[^0-9])0[1-9][0-9]{1,2}-[0-9]{7,8}([^0-9]|$)',
        'id_number': '(^|[^0-9])' ~ id_number_pattern() | trim ~ '([^0-9]|$)',
    }) }}
{%- endmacro %}
