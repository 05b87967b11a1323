"""winback: retail member operations — find dormant members, win them back, prove what it earned."""

__version__ = "0.1.0"
