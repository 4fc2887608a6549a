"""Renderers: Results in, text out (tables, JSON, ...). They never compute a gradient."""
