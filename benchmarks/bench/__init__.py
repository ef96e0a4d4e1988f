"""The models of the benchmark site: a realistic mix of tables and field types."""
