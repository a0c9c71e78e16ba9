"""The two Flask gateways: ``portal`` (customers, HTML) and ``admin`` (staff, JSON).
They own no data; every answer comes from a service over RPC."""
