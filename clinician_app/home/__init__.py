"""Each role's home page, the navigation, and health checks."""
