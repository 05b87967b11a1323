"""The web console (docs/web.md): `create_app(wb)` builds a FastAPI app over the app object's services, with users,
roles and row-level scope, an audit log, a JSON API and server-rendered pages in zh and en."""
