"""The tables of the ``pgfields`` app; on SQLite, a stand-in (#13).

The ``sqlite`` database of the PostgreSQL settings migrates every app, and
SQLite has no array type: there the table is made of text columns, so that
it exists (empty) for the cross-engine tests.
"""

from __future__ import annotations

from typing import Any

import django.contrib.postgres.fields
import django.contrib.postgres.fields.hstore
import django.contrib.postgres.fields.ranges
import django.contrib.postgres.search
from django.contrib.postgres.operations import CreateCollation, HStoreExtension
from django.db import migrations, models


class CreatePostgresModel(migrations.CreateModel):
    """Create the model; on any other engine, a table of text columns."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        """Create the table, or its stand-in."""
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.name)
        quote = schema_editor.quote_name
        columns = [
            f"{quote(f.column)} integer NOT NULL PRIMARY KEY AUTOINCREMENT"
            if f.primary_key
            else f"{quote(f.column)} text NULL"
            for f in model._meta.local_concrete_fields
        ]
        table = quote(model._meta.db_table)
        schema_editor.execute(f"CREATE TABLE {table} ({', '.join(columns)})")

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        """Drop the table, or its stand-in."""
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
            return
        model = from_state.apps.get_model(app_label, self.name)
        schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(model._meta.db_table)}")


class Migration(migrations.Migration):
    """Create the ``pgfields`` tables."""

    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        HStoreExtension(),
        CreateCollation(
            "pgf_nocase",
            provider="icu",
            locale="und-u-ks-level2",
            deterministic=False,
        ),
        CreatePostgresModel(
            name="Sample",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("label", models.CharField(max_length=100)),
                ("ints", django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(null=True), null=True, size=None)),
                ("grid", django.contrib.postgres.fields.ArrayField(base_field=django.contrib.postgres.fields.ArrayField(base_field=models.IntegerField(null=True), size=None), null=True, size=None)),
                ("texts", django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=20, null=True), null=True, size=None)),
                ("stamps", django.contrib.postgres.fields.ArrayField(base_field=models.DateTimeField(null=True), null=True, size=None)),
                ("days", django.contrib.postgres.fields.ArrayField(base_field=models.DateField(null=True), null=True, size=None)),
                ("amounts", django.contrib.postgres.fields.ArrayField(base_field=models.DecimalField(decimal_places=6, max_digits=20, null=True), null=True, size=None)),
                ("uuids", django.contrib.postgres.fields.ArrayField(base_field=models.UUIDField(null=True), null=True, size=None)),
                ("spans", django.contrib.postgres.fields.ArrayField(base_field=models.DurationField(null=True), null=True, size=None)),
                ("ratios", django.contrib.postgres.fields.ArrayField(base_field=models.FloatField(null=True), null=True, size=None)),
                ("tags", django.contrib.postgres.fields.hstore.HStoreField(null=True)),
                ("int_range", django.contrib.postgres.fields.ranges.IntegerRangeField(null=True)),
                ("big_range", django.contrib.postgres.fields.ranges.BigIntegerRangeField(null=True)),
                ("decimal_range", django.contrib.postgres.fields.ranges.DecimalRangeField(null=True)),
                ("date_range", django.contrib.postgres.fields.ranges.DateRangeField(null=True)),
                ("time_range", django.contrib.postgres.fields.ranges.DateTimeRangeField(null=True)),
                ("search", django.contrib.postgres.search.SearchVectorField(null=True)),
                ("name", models.CharField(db_collation="pgf_nocase", max_length=30, null=True)),
            ],
        ),
    ]
