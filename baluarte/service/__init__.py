"""``baluarte serve``: the scheduled compliance service — scheduler, dashboard, API, accounts and
notifications — built on the engine and its store. The engine does not know this package.

Its own tables live beside the run store's in the same database, migrated by their own Alembic
history (version table ``baluarte_service_version``): ``baluarte.service.db``.
"""
