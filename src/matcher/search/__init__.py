"""The vector index and the catalog that keeps it in step with the store."""
