"""Home, health check and the development outbox."""
