"""Sanitising: one policy (builder.sanitize.policy) for HTML in notes (html) and every SVG shipped (svg)."""
