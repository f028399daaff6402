"""Tests of the container image, compose file and deployment scripts."""
