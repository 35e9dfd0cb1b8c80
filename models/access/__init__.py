"""Access: API keys, MQTT identities, and the tenancy that decides which units a caller sees."""
