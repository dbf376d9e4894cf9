"""Forbedring's public event contracts.

- `topics`: every topic name, bound to its event model, record key and producing service
- `events`: the event models (Pydantic v2)
- `envelope`: CloudEvents 1.0 over Kafka (binary mode): `encode`, `decode`, `InvalidEvent`
- `compat`: breaking changes between two JSON Schemas of a topic
- `generate`: writes `schemas/*.json` and `asyncapi.yaml` (`python -m ...generate`)
"""
