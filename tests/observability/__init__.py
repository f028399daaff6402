"""Tests of metrics, error reporting and log hygiene."""
