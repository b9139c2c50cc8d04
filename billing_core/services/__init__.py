"""Services of the billing core: plain values in, plain values out, one unit of work each."""
