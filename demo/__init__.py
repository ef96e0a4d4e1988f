"""A small Django shop site that shows lino-migrate's main job (see ``run.py``)."""
