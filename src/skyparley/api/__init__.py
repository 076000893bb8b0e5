"""skyparley.api."""
