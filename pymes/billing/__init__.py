"""Billing with Stripe: trial, subscription through Checkout, the Customer Portal, the
webhook that keeps each business's state, and read-only access when it lapses.

Every Stripe call of the application lives in this package (``stripe_api.py``)."""
