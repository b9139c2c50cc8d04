"""What the billing core talks to: the database, payment gateways, message senders, file formats."""
