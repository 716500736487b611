"""Quality checks on the lake: volume against a holiday-aware baseline."""
