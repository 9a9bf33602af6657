"""NHS Talking Therapies recovery rates: the calculation core (no user interface here)."""
