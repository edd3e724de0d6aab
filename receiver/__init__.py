"""The webhook receiver Texter posts to: `python -m receiver`, configured by environment.

Kept free of `infra` imports so the container image holds this package alone.
"""
