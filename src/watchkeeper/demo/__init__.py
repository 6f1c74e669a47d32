"""`watchkeeper demo`: a bundled model (model.py), its customers (customers.csv) and the loop (loop.py)."""
