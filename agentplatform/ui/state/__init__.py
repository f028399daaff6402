"""Reflex state: one small class per feature."""
