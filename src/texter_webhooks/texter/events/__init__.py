"""One Import Subscription template per documented Texter event (JSON data)."""
