"""A command of another app that shadows lino_migrate's `dump2py` (tests only)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Not lino_migrate's dump2py."

    def handle(self, *args: object, **options: object) -> None:
        """Do nothing."""
