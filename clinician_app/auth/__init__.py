"""Users, roles, passwords, MFA, server-side sessions and API clients."""
