"""Shared concepts every room may use: phones, masking, encodings, typed results. Imports no other room."""
