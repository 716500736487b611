{#-
    Places free-text addresses on a road and a grid, from the reference lists only (no
    geocoder): the roads of the record's street that the address names, then the grid those
    roads bound. Two roads (a 路口) name one grid exactly; one road is ambiguous (every road
    bounds two or more grids) and takes the lowest grid code — an assumption, marked by
    grid_match_method. A real deployment would use the 一标三实 address base instead.

    `addresses` is a CTE with `key_columns`, `address` and `street_code`; the result has the
    key columns plus road_name, cross_road_name, grid_code and grid_match_method.
-#}
{% macro locate_addresses(addresses, key_columns) -%}
    {%- set keys = key_columns | join(', ') -%}
    with

    roads as (

        select * from {{ ref('roads') }}

    ),

    int_grid_roads as (

        select * from {{ ref('int_grid_roads') }}

    ),

    road_mentions as (

        select
            {% for key in key_columns %}{{ addresses }}.{{ key }},
            {% endfor %}roads.street_code,
            roads.road_name,
            strpos({{ addresses }}.address, roads.road_name) as road_position,
            row_number() over (
                partition by {% for key in key_columns %}{{ addresses }}.{{ key }}{{ ', ' if not loop.last }}{% endfor %}
                order by strpos({{ addresses }}.address, roads.road_name), length(roads.road_name) desc
            ) as mention_rank

        from {{ addresses }}
        inner join roads
            on
                {{ addresses }}.street_code = roads.street_code
                and contains({{ addresses }}.address, roads.road_name)

    ),

    grid_candidates as (

        select
            {% for key in key_columns %}road_mentions.{{ key }},
            {% endfor %}int_grid_roads.grid_code,
            count(*) as roads_matched

        from road_mentions
        inner join int_grid_roads
            on
                road_mentions.street_code = int_grid_roads.street_code
                and road_mentions.road_name = int_grid_roads.road_name
        where road_mentions.mention_rank <= 2
        group by all

    ),

    best_grid as (

        select *
        from grid_candidates
        qualify row_number() over (
            partition by {{ keys }} order by roads_matched desc, grid_code
        ) = 1

    ),

    located as (

        select
            {% for key in key_columns %}{{ addresses }}.{{ key }},
            {% endfor %}first_road.road_name,
            second_road.road_name as cross_road_name,
            best_grid.grid_code,
            case
                when best_grid.roads_matched >= 2 then '路口定位'
                when best_grid.grid_code is not null then '道路推定'
                else '仅街镇'
            end as grid_match_method

        from {{ addresses }}
        left join road_mentions as first_road
            on
                {% for key in key_columns %}{{ addresses }}.{{ key }} = first_road.{{ key }}
                and {% endfor %}first_road.mention_rank = 1
        left join road_mentions as second_road
            on
                {% for key in key_columns %}{{ addresses }}.{{ key }} = second_road.{{ key }}
                and {% endfor %}second_road.mention_rank = 2
        left join best_grid
            on
                {% for key in key_columns %}{{ addresses }}.{{ key }} = best_grid.{{ key }}{{ '\n                and ' if not loop.last }}{% endfor %}

    )

    select * from located
{%- endmacro %}
