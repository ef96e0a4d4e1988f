"""A command of another app that shadows lino_migrate's `run` (tests only)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Not lino_migrate's run."

    def handle(self, *args: object, **options: object) -> None:
        """Do nothing."""
