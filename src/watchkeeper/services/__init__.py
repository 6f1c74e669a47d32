"""Rules of each resource family: names, ARNs, statuses, quotas. No HTTP here."""
