"""What a Lino dump says about its site, mapped to the current site.

A Lino dump records one version for the whole site, ``SOURCE_VERSION``
(``settings.SITE.version``, the version of the site's own distribution, e.g.
``lino_noi``), and the languages of its babel values (``bv2kw``). A dump of
lino_migrate records a version per app. The rules, first found:

1. ``--app-version APP=X`` given by the operator;
2. an app of a package named in ``OTHER_SOURCES`` (``{package: version}``,
   when the dump records it) gets that version;
3. an app of the site's own package gets ``SOURCE_VERSION``: the package is
   ``--source-package``, else the top-level package of the Lino ``Site``
   class that declares ``version`` (for Noi, ``lino_noi``);
4. every other app (Lino's own plugins, ``lino_xl``, Django's) is assumed to
   have been dumped at its installed version, so that none of its migrators
   runs. Each assumption is reported.

Babel values are given to the current site's languages by name, as Lino's
``babelkw`` does: a language the site no longer has is dropped (and
reported); without a Lino ``SITE`` the suffixes are those the dump's site
had (``name``, ``name_de``, ...).

.. versionadded:: 0.3
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from packaging.version import InvalidVersion, Version

from lino_migrate.exceptions import LinoMigrateError, plural
from lino_migrate.lino.linodump import LinoDump
from lino_migrate.versions import app_versions

__all__ = [
    "AppVersions",
    "language_suffixes",
    "parse_app_versions",
    "site_package",
    "versions_of",
]


@dataclass
class AppVersions:
    """The version given to each app, and the assumptions made to give them."""

    versions: dict[str, str] = field(default_factory=dict)
    #: per app label, where its version comes from
    origins: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def parse_app_versions(items: Sequence[str]) -> dict[str, str]:
    """Return ``{app_label: version}`` of ``--app-version APP=X`` items.

    :raises LinoMigrateError: for an item that is not ``APP=VERSION``, an app
        that is not installed or a version that does not parse.
    """
    found: dict[str, str] = {}
    for item in items:
        label, sep, version = item.partition("=")
        label, version = label.strip(), version.strip()
        if not (sep and label and version):
            msg = f"--app-version {item!r}: expected APP=VERSION, e.g. tickets=26.9.2."
            raise LinoMigrateError(msg)
        if label not in apps.app_configs:
            known = ", ".join(sorted(apps.app_configs))
            msg = f"--app-version {item!r}: no installed app '{label}'; the app labels are: {known}."
            raise LinoMigrateError(msg)
        try:
            Version(version)
        except InvalidVersion:
            msg = f"--app-version {item!r}: '{version}' is not a version (PEP 440, e.g. 2.1)."
            raise LinoMigrateError(msg) from None
        found[label] = version
    return found


def site_package() -> str | None:
    """Return the top-level package of the Lino ``Site`` class that declares ``version``."""
    site = getattr(settings, "SITE", None)
    for cls in type(site).__mro__ if site is not None else ():
        if vars(cls).get("version") is not None:
            return cls.__module__.partition(".")[0]
    return None


def _sources(dump: LinoDump, package: str | None) -> tuple[dict[str, str], list[str]]:
    """Return the versions the dump records, per top-level package."""
    notes = []
    sources: dict[str, str] = {}
    other = dump.values.get("OTHER_SOURCES")
    if isinstance(other, Mapping):
        sources.update({str(k): str(v) for k, v in other.items()})
    version = dump.source_version
    if version is None:
        notes.append("The Lino dump records no SOURCE_VERSION.")
        return sources, notes
    try:
        Version(version)
    except InvalidVersion:
        notes.append(
            f"SOURCE_VERSION {version!r} is not a version: it is not used; give "
            "--app-version APP=VERSION for the apps of the site."
        )
        return sources, notes
    if package is None:
        notes.append(
            f"SOURCE_VERSION {version!r} is given to no app: the site's package is "
            "not known (no Lino Site class declares `version`); give --source-package."
        )
    else:
        sources.setdefault(package, version)
    return sources, notes


def versions_of(
    dump: LinoDump, overrides: Mapping[str, str], package: str | None
) -> AppVersions:
    """Return the version of every installed app with models, by the rules above.

    :param overrides: ``--app-version`` items, parsed.
    :param package: ``--source-package``, or ``None`` for :func:`site_package`.
    """
    package = package or site_package()
    sources, notes = _sources(dump, package)
    result = AppVersions(notes=notes)
    assumed: dict[str, list[str]] = {}
    for label, installed in app_versions().items():
        top = apps.get_app_config(label).name.partition(".")[0]
        if label in overrides:
            version, origin = overrides[label], "--app-version"
        elif top in sources:
            version, origin = sources[top], f"the dump's version of {top}"
        else:
            version, origin = installed, "assumed: the installed version"
            assumed.setdefault(top, []).append(label)
        result.versions[label] = version
        result.origins[label] = origin
    given = [label for label, o in result.origins.items() if o.startswith("the dump")]
    if given:
        result.notes.append(
            f"{plural(len(given), 'app')} got the version the dump records: "
            + ", ".join(f"{label} {result.versions[label]}" for label in given)
            + "."
        )
    if assumed:
        groups = "; ".join(
            f"{top}: {', '.join(labels)}" for top, labels in assumed.items()
        )
        count = sum(len(labels) for labels in assumed.values())
        result.notes.append(
            f"Assumed that {plural(count, 'app')} the dump records no version of "
            f"were dumped at their installed version, so none of their migrators "
            f"runs ({groups}). If the dump is older, give --app-version APP=VERSION."
        )
    return result


def language_suffixes(languages: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Return the column suffix of each language of the dump, and those dropped.

    :param languages: the dump's languages, as its ``bv2kw`` names them.
    """
    site = getattr(settings, "SITE", None)
    known = getattr(site, "language_dict", None)
    if known is None:
        return {
            lang: "" if i == 0 else f"_{lang}" for i, lang in enumerate(languages)
        }, []
    suffixes, dropped = {}, []
    for lang in languages:
        info = known.get(lang)
        if info is None:
            dropped.append(lang)
        else:
            suffixes[lang] = str(info.suffix)
    return suffixes, dropped
