"""The estimate aggregate: an offer with priced lines, answered by the customer."""
