"""``sqlgate-runner rehearse``: the reviewed migrations, run and measured in a scratch copy
of the target's schema (docs/runner.md, "Rehearsal")."""
