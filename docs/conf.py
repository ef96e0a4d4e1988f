"""Sphinx configuration of the lino-migrate documentation."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx

# autodoc imports the packages from the source tree, and lino_migrate needs
# configured Django settings to import at all.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings.sqlite")
_DJANGO_SETUP_ERROR: ImportError | None = None
try:
    import django

    django.setup()
except ImportError as e:
    # Reported as a Sphinx warning by setup() below, so that -W fails with the cause.
    _DJANGO_SETUP_ERROR = e

project = "lino-migrate"
author = "lino-migrate contributors"
copyright = f"2026, {author}"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
# captured/ holds the output shown by the pages; its README is for developers.
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "captured/README.md"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}

# Sphinx turns an unreachable inventory into a warning that has no type, so it
# cannot be suppressed and -W would fail every offline build (CI has no access
# to these sites).  Fetch the inventories only on request: DOCS_ONLINE=1.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
if os.environ.get("DOCS_ONLINE") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "django": (
            "https://docs.djangoproject.com/en/5.2/",
            "https://docs.djangoproject.com/en/5.2/_objects/",
        ),
        "packaging": ("https://packaging.pypa.io/en/stable/", None),
        "libcst": ("https://libcst.readthedocs.io/en/latest/", None),
    }
intersphinx_timeout = 5

html_theme = "alabaster"
html_title = "lino-migrate"


def _report_django_setup_error(app: Sphinx) -> None:
    from sphinx.util import logging

    logging.getLogger(__name__).warning(
        "Django could not be set up with %s, so autodoc cannot import lino_migrate: %s",
        os.environ["DJANGO_SETTINGS_MODULE"],
        _DJANGO_SETUP_ERROR,
    )


def setup(app: Sphinx) -> None:
    """Warn when Django could not be set up (see above)."""
    if _DJANGO_SETUP_ERROR is not None:
        app.connect("builder-inited", _report_django_setup_error)
