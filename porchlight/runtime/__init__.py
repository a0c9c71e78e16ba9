"""What every Porchlight process needs: its settings (``settings``), its log format
(``logs``), its metrics and ops server (``metrics``, ``ops``), the request it is serving
(``request_context``), TLS for the broker (``amqp_tls``), and the one place an email's
link and code are put back for sending (``mail_secrets``)."""
