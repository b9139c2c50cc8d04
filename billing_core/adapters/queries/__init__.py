"""The billing core's SQL, as named functions: services call them with a unit of work."""
