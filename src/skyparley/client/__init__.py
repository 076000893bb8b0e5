"""skyparley.client."""
