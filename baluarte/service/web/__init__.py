"""The dashboard: server-rendered pages (``pages.router``), sessions, CSRF and view helpers."""
