"""The demo brand: a synthetic retail brand generator (the test-data engine) and `winback demo`."""
