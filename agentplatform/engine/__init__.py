"""The engine: providers, tools, the agent loop and team strategies. No HTTP, no UI."""
