"""Territories and portfolios, each with at least one responsible seller (rule 10)."""
