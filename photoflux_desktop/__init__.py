"""PhotoFlux: turn a photo into a styled image, locally."""

__version__ = "0.1.0"
