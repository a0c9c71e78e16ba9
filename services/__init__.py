"""Porchlight's nameko services; each package owns its own MongoDB database."""
