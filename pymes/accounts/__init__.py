"""Accounts: the business (tenant), its team, log-in and settings."""
