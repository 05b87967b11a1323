"""The console's routes: api.py (JSON, /api/...) and pages.py (server-rendered HTML)."""
