"""Stateless UI pieces: cards, panels, fields; no state of their own."""
