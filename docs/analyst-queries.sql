-- Analyst queries on the 城运主题数据库, published as the serving snapshot
-- (DuckDB: $CITYOPS_HOME/serving/current.duckdb; it works while a build runs).
-- Open the file read-only (duckdb -readonly …) and run any statement on its own.
-- "Last week" means the seven days up to the newest data, not the calendar: the demo data
-- is historical. tests/integration/test_dbt_build.py runs every statement below
-- and checks that each returns rows.


-- 1. 上周哪个网格的超期工单最多？Which grid had the most overdue 12345 orders last week?
--    超期 = replied after the working-day deadline, or still unreplied at the data cut-off.
with

last_week as (

    select
        max(accepted_date) - 6 as first_day,
        max(accepted_date) as last_day
    from events.fct_hotline_orders

)

select
    orders.grid_code,
    grids.grid_name,
    grids.street_name,
    count(*) filter (where orders.is_overdue) as overdue_orders,
    count(*) as dispatched_orders
from events.fct_hotline_orders as orders
inner join places.dim_grids as grids on orders.grid_code = grids.grid_code
cross join last_week
where
    orders.is_dispatched
    and orders.accepted_date between last_week.first_day and last_week.last_day
group by orders.grid_code, grids.grid_name, grids.street_name
having count(*) filter (where orders.is_overdue) > 0
order by overdue_orders desc, orders.grid_code asc
limit 10;


-- 2. 某网格上周的全部事件：every event (12345, grid case, device alarm) in one grid last
--    week, with its lifecycle. Replace the chosen grid with yours, e.g. 'JA012-03'; here it
--    is the grid with the most events.
with

last_week as (

    select
        max(reported_date) - 6 as first_day,
        max(reported_date) as last_day
    from events.fct_city_events

),

chosen_grid as (

    select events.grid_code
    from events.fct_city_events as events
    cross join last_week
    where events.reported_date between last_week.first_day and last_week.last_day
    group by events.grid_code
    order by count(*) desc, events.grid_code asc
    limit 1

)

select
    events.reported_at,
    events.event_source,
    events.matter_category,
    events.matter_name,
    events.lifecycle_stage,
    events.dispatched_at,
    events.disposed_at,
    events.closed_at,
    events.is_overdue
from events.fct_city_events as events
inner join chosen_grid on events.grid_code = chosen_grid.grid_code
cross join last_week
where events.reported_date between last_week.first_day and last_week.last_day
order by events.reported_at asc;


-- 3. 重复来电人按诉求类型：repeat callers by matter type — who calls again within 30 days,
--    and how often it is the same problem at the same building (重复工单).
select
    matter_category,
    matter_subcategory,
    count(distinct caller_key) as repeat_callers,
    count(*) as repeat_calls,
    count(*) filter (where is_repeat_order) as repeat_orders,
    round(avg(days_since_previous_call), 1) as avg_days_since_previous_call
from people.fct_repeat_calls
group by matter_category, matter_subcategory
order by repeat_calls desc, matter_category asc, matter_subcategory asc;


-- 4. 各街镇热线考核：each street's 12345 KPIs over the whole period, as ratios of summed
--    numerators and denominators (never an average of daily rates).
select
    streets.street_name,
    sum(kpis.dispatched_orders) as dispatched_orders,
    round(sum(kpis.signed_on_time_orders) / nullif(sum(kpis.sign_decided_orders), 0), 3)
        as timely_sign_rate,
    round(sum(kpis.contacted_on_time_orders) / nullif(sum(kpis.contact_decided_orders), 0), 3)
        as first_contact_rate,
    round(sum(kpis.replied_on_time_orders) / nullif(sum(kpis.due_orders), 0), 3)
        as on_time_reply_rate,
    round(sum(kpis.satisfied_orders) / nullif(sum(kpis.callback_orders), 0), 3)
        as satisfaction_rate,
    round(sum(kpis.repeat_orders) / nullif(sum(kpis.accepted_orders), 0), 3)
        as repeat_order_rate,
    round(sum(kpis.returned_orders) / nullif(sum(kpis.dispatched_orders), 0), 3)
        as return_rate
from events.kpi_hotline_daily as kpis
inner join places.dim_streets as streets on kpis.street_code = streets.street_code
group by streets.street_name
order by on_time_reply_rate asc nulls last, streets.street_name asc;


-- 5. 承办单位办理时效：handling units by average handling time in working hours and their
--    return rate (退单率 is charged to the unit first dispatched to).
select
    departments.department_name,
    departments.department_kind,
    sum(kpis.replied_orders) as replied_orders,
    round(sum(kpis.handling_working_hours_total) / nullif(sum(kpis.replied_orders), 0), 1)
        as avg_handling_working_hours,
    sum(kpis.returned_orders) as returned_orders,
    round(sum(kpis.returned_orders) / nullif(sum(kpis.dispatched_orders), 0), 3) as return_rate
from events.kpi_hotline_daily as kpis
inner join organisations.dim_departments as departments
    on kpis.unit_code = departments.department_code
group by departments.department_name, departments.department_kind
having sum(kpis.replied_orders) + sum(kpis.dispatched_orders) > 0
order by avg_handling_working_hours desc nulls last, departments.department_name asc;


-- 6. 网格案件考核：立案率, 按期结案率 and 返工率 of grid cases by street.
select
    streets.street_name,
    sum(kpis.reported_cases) as reported_cases,
    round(sum(kpis.registered_cases) / nullif(sum(kpis.reported_cases), 0), 3)
        as registration_rate,
    round(sum(kpis.disposed_on_time_cases) / nullif(sum(kpis.due_cases), 0), 3)
        as on_time_closure_rate,
    round(sum(kpis.reworked_cases) / nullif(sum(kpis.closed_cases), 0), 3) as rework_rate
from events.kpi_grid_daily as kpis
inner join places.dim_streets as streets on kpis.street_code = streets.street_code
group by streets.street_name
order by reported_cases desc, streets.street_name asc;


-- 7. 城运态势：every situation signal of the newest three days, most severe first — storms,
--    heat, flooded underpasses, complaint spikes, alarm clusters, silent water meters.
select
    signals.signal_date,
    signals.severity,
    signals.signal_name,
    signals.subject_name,
    streets.street_name,
    signals.grid_code,
    signals.started_at,
    signals.ended_at,
    signals.measure_value,
    signals.baseline_value
from situations.fct_situation_signals as signals
left join places.dim_streets as streets on signals.street_code = streets.street_code
where
    signals.signal_date >= (
        select max(newest.signal_date) - 2 from situations.fct_situation_signals as newest
    )
order by
    case signals.severity when '红' then 1 when '橙' then 2 when '黄' then 3 else 4 end,
    signals.started_at;


-- 8. 暴雨日：what the storm did — rainfall peak per station, flooded underpasses, and the
--    flooding and drainage orders and cases of that day by street.
with

storm_days as (

    select distinct signal_date
    from situations.fct_situation_signals
    where signal_type = 'rainstorm'

)

select
    events.reported_date,
    streets.street_name,
    count(*) filter (where events.event_source = '12345热线') as hotline_orders,
    count(*) filter (where events.event_source = '网格案件') as grid_cases,
    count(*) filter (where events.event_source = '物联告警') as device_alarms
from events.fct_city_events as events
inner join storm_days on events.reported_date = storm_days.signal_date
inner join places.dim_streets as streets on events.street_code = streets.street_code
where events.matter_name in ('道路积水', '下水道堵塞', '下立交积水超警')
group by events.reported_date, streets.street_name
order by
    events.reported_date asc,
    hotline_orders + grid_cases + device_alarms desc,
    streets.street_name asc;


-- 9. 独居老人水表静默：elderly people living alone whose water meter has shown no use for
--    12 hours or more, for the street office to visit (names and phones masked).
select
    signals.started_at as silent_since,
    signals.measure_value as silent_hours,
    residents.resident_name_masked,
    residents.resident_phone_masked,
    residents.age_band,
    streets.street_name,
    residents.grid_code
from situations.fct_situation_signals as signals
inner join people.dim_care_residents as residents on signals.subject_code = residents.device_id
left join places.dim_streets as streets on residents.street_code = streets.street_code
where signals.signal_type = 'silent_water_meter'
order by signals.started_at asc;


-- 10. 诉求话题激增：complaint topics that spiked, with the day's orders against the baseline.
select
    stat_date,
    topic_name,
    order_count,
    baseline_daily_orders,
    street_count
from situations.fct_complaint_topics_daily
where is_spike
order by stat_date asc, order_count desc, topic_name asc;


-- 11. 派单字典执行情况：orders per dispatch rule version, so a rule change shows in history,
--     and how often each rule's first unit returned the order (a sign of a wrong rule).
select
    rules.matter_name,
    rules.rule_id,
    rules.valid_from,
    rules.valid_to,
    rules.time_limit_workdays,
    count(*) as dispatched_orders,
    count(*) filter (where orders.is_returned) as returned_orders,
    count(*) filter (where orders.is_overdue) as overdue_orders
from events.fct_hotline_orders as orders
inner join reference.dispatch_rules as rules on orders.dispatch_rule_id = rules.rule_id
group by rules.matter_name, rules.rule_id, rules.valid_from, rules.valid_to, rules.time_limit_workdays
order by dispatched_orders desc, rules.rule_id asc;


-- 12. 设备告警：device alarms per street and alarm type, with the devices involved.
select
    streets.street_name,
    alarms.alarm_name,
    alarms.alarm_severity,
    count(*) as alarm_hours,
    count(distinct alarms.device_id) as devices,
    min(alarms.alarm_at) as first_alarm_at,
    max(alarms.alarm_at) as last_alarm_at
from events.fct_device_alarms as alarms
inner join places.dim_streets as streets on alarms.street_code = streets.street_code
group by streets.street_name, alarms.alarm_name, alarms.alarm_severity
order by alarm_hours desc, streets.street_name asc, alarms.alarm_name asc;


-- 13. 自动化派单：一致率最低的诉求 — the matters where the 派单字典's proposed unit most often
--     differs from the unit the order was first dispatched to, over the whole period
--     (Σ一致 / Σ可比, never an average of monthly rates), with the deadline agreement beside.
--     Orders not dispatched yet, or whose first unit the feed does not show, are not compared.
select
    agreement.matter_code,
    agreement.matter_category,
    agreement.matter_subcategory,
    sum(agreement.compared_orders) as compared_orders,
    sum(agreement.compared_orders - agreement.agreeing_orders) as disagreeing_orders,
    round(sum(agreement.agreeing_orders) / sum(agreement.compared_orders), 4) as agreement_rate,
    round(
        sum(agreement.deadline_agreeing_orders) / nullif(sum(agreement.deadline_compared_orders), 0), 4
    ) as deadline_agreement_rate
from events.kpi_dispatch_proposal_agreement as agreement
group by agreement.matter_code, agreement.matter_category, agreement.matter_subcategory
having sum(agreement.compared_orders) > 0
order by agreement_rate asc, compared_orders desc, agreement.matter_code asc
limit 10;
