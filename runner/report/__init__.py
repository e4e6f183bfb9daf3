"""The run report: what happened to each repository, and writers that people and programs read."""
