"""The services that consume from the broker: the regional aggregators and the Secretariat."""
