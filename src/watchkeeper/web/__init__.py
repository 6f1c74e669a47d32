"""The dashboard at /ui (docs/dashboard.md): server-rendered pages over the services and the object store."""
