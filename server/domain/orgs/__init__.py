"""Customer orgs, partners and their users: the customers list and look-ups, the operators' directory, partner users and API tokens, data residency (R-GEO-01)."""
