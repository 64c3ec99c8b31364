"""Public feedback links: the customer scores the service, asks for a callback, speaks up."""
