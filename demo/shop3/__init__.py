"""Release 3 of the demo shop (app label ``shop``, version 3.0).

What changed since release 1, and how a release-1 dump is upgraded, is in
``migrators.py``: the dump is the only way from one release to the other.
"""
