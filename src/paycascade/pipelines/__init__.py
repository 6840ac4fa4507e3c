"""The aggregation pipeline: input -> staging -> core -> marts, as Ibis expressions."""
