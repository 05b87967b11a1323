"""Shipped rules files (TOML): segmentation schemes as ordered predicates. See docs/lifecycle.md."""
