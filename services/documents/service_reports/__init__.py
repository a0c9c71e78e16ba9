"""The service-report aggregate: what was done at an appointment, signed by the customer."""
