"""Reports: monthly figures per town and for the whole BHU, charts, CSV, printable and PDF
output, and the state diversion program's extract (DOMAIN.md step 10)."""
