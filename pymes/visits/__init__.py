"""Post-sale follow-up: the plan every sale starts, the sellers' agenda, outcomes."""
