"""Referrals between towns and to services, consent (42 CFR Part 2) and the accounting of disclosures."""
