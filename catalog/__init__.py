"""The 城运主题数据资源目录: generated from dbt and the serving snapshot, exported (README.md)."""
