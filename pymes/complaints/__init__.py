"""Complaints (reclamos): opened fast, owned, timed against service-level targets, fixed
with a remedy whose cost is weighed against the value of keeping the client (rules 4, 6, 7)."""
