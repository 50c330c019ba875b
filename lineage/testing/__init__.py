"""Test doubles and generators for lineage's own tests and benchmarks.

Real protocols, fake data: a Hub that speaks the Hugging Face API on 127.0.0.1, a
Bolt server for Neo4j tests, a headless browser harness and seeded synthetic populations.
Nothing here is imported by the library's own code paths.
"""
