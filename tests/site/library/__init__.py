"""Relations of every kind, for round-trip tests of foreign keys and ids."""
