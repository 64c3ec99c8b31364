"""Referrals and testimonials: the virtuous circle (rule 8)."""
