"""LLM providers behind one small async interface."""
