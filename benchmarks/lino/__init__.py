"""lino-migrate on a real Lino site: the Noi demo, checked and measured (#13).

``benchmarks/lino/run.py`` installs Lino Noi from PyPI and lino-migrate from
this checkout into a virtualenv of its own, builds the Noi demo database and
checks, on SQLite, that our dump and restore round trip every table, that
Lino's own tools (``ddt``, a cron line written for Lino's ``dump2py``) work
with lino-migrate enabled, and measures Lino's ``dump2py`` and restore against
ours. Everything here uses the standard library only: the Django code runs in
``manage.py`` processes of the virtualenv.
"""
