"""Plan components: one module per kind, each with its spec and vectorized compute."""
