"""The tamper-evident audit log: a hash chain over append-only events plus signed checkpoints.

Modules: ``chain`` (canonical form and hashing, pure), ``log`` (``AuditLog`` appends and
checkpoints), ``verify`` (``verify_chain`` re-walks the chain). This package imports none of
them eagerly so that the store can use ``chain`` without an import cycle.
"""
