"""sqlgate: a policy-as-code review gate for database migrations (the service side)."""

__version__ = "0.1.0"
