"""The 城运主题数据资源目录 exporter (arrives with issue 6)."""
