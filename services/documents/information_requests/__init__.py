"""The information-request aggregate: what a project asks its customer for, item by item."""
