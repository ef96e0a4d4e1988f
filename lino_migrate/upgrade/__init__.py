"""Upgrade a dump or the code that reads it: ``upgradedump`` and ``makemigrator``."""
