"""The history store: every sweep's outcomes and dependency health, kept across runs (SQLite or PostgreSQL)."""
