"""Uplift targeting: learn from the brand's own control groups whom a touch changes, and target the next campaign."""
