"""The 城运主题数据资源目录, exported after every published serving snapshot."""
