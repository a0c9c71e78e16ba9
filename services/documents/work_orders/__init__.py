"""The work-order aggregate: the job as the customer follows it."""
