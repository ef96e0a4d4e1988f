"""What the commands report: drift, comparison of two dumps, the plan, the restore."""
