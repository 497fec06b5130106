"""The demo: bundled SYNTHETIC sample data (``pas/demo/data``) and its loader."""
