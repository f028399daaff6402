"""UI tests that need no browser: components render to the expected JavaScript."""
