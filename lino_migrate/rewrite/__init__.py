"""Edit Python source with libcst: migrators.py files and restore.py scripts."""
