"""anonymiser package."""
