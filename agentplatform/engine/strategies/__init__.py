"""Team strategies: sequential, round_robin, selector and parallel."""
