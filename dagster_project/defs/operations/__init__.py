"""Operations: the daily pipeline job, its schedule, the landing sensor and failure alerts."""
