"""skyparley.service."""
