"""The admin console: users, agencies and API clients (no clinical content)."""
