"""Thin handlers of the governance domain, one module per concept."""
