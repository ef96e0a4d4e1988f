"""Settings of the test site: ``sqlite`` (default) and ``postgres``."""
