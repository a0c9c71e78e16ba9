"""The project aggregate: weeks of work for one customer, with its logged hours and its tasks."""
