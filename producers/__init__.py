"""The services that produce to the broker: the national node."""
