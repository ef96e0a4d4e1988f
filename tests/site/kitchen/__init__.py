"""Value fields of every built-in kind, for round-trip tests of single values."""
