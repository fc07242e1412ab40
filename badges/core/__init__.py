"""Pure Open Badges 3.0 core: credentials, JSON-LD, proofs, keys, status lists, baking, verification.

Nothing in this package imports Flask or SQLAlchemy, reads the clock, or touches the network;
time, keys and the JSON-LD document loader are always parameters.
"""
