with

workday_calendar as (

    select * from {{ ref('workday_calendar') }}

),

final as (

    select
        calendar_date,
        year(calendar_date) as calendar_year,
        month(calendar_date) as calendar_month,
        cast(date_trunc('week', calendar_date) as date) as week_start_date,
        iso_weekday,
        day_kind,
        case day_kind
            when 'workday' then '工作日'
            when 'makeup_workday' then '调休上班'
            when 'weekend' then '周末'
            when 'holiday' then '法定节假日'
        end as day_kind_name,
        is_workday,
        holiday_name,
        workday_index

    from workday_calendar

)

select * from final
