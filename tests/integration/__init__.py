"""Tests across several real processes (API replicas, workers) sharing PostgreSQL and Redis."""
