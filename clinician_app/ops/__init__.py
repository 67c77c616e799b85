"""Operations: readiness checks, encrypted backups and their restore."""
