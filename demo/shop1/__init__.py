"""Release 1 of the demo shop (app label ``shop``, version 1.0)."""
