"""Write-audit-publish: the serving snapshot, published after the warehouse build."""
