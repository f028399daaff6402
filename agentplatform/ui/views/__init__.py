"""Blocks bound to one state each, composed by pages."""
