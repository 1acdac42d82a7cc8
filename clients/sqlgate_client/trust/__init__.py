"""Offline verification of sqlgate's trust artefacts: pinned public keysets, DSSE
envelopes, in-toto verdicts and PASETO v4.public execution tokens.

Only stdlib, cryptography, pyseto and protobuf are used here, so runners and
auditors can verify without the server package.
"""
