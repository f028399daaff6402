"""Prometheus metrics, Sentry error reporting and the HTTP middleware that feeds them."""
