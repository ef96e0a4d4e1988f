"""The dump format both sides share: layout, value codec, strict literal parser.

Nothing here imports Django: the format is read and written by the dumper,
the restore, the comparison and the upgrade alike, and can be checked in a
bare interpreter.
"""
