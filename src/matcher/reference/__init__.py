"""Read-only reference data as typed objects: ESCO, public-sector positions, provinces, languages."""
