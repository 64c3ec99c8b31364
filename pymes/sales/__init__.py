"""Sales: what a client bought, from whom, for how much, delivered when."""
