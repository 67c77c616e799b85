"""The auditor's console: the audit trail, its filters and export, and chain verification."""
