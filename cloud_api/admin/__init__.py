"""The studio admin dashboard: server-rendered pages, SVG charts, no third-party assets."""
