"""The HTTP API under /api: dependencies, schemas and one router per resource."""
