"""lineage: map who builds on whose open models."""

__version__ = "0.1.0"
