"""Human document numbers (WO-0001, EST-0001, SR-0001, PRJ-0001, IR-0001), shared by every aggregate."""
