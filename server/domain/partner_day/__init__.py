"""The partner's day: what needs attention today and trials by week."""
