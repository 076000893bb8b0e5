"""skyparley.replay."""
