"""The survey service's domain: pure rules, no I/O and no framework."""
