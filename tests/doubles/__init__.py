"""Service doubles that the integration and end-to-end tests start on loopback."""
