"""Configuration, security primitives, storage access and observability."""
