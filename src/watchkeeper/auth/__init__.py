"""Who is asking: SigV4 verification against the keys of the auth file."""
