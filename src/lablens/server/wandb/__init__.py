"""The W&B wire protocol: what the real ``wandb`` package sends when it logs and reads when it
queries, answered from our store, so a run logged through ``wandb`` is an ordinary lablens run.

``graphql.py`` serves ``POST /graphql`` from the schema files in ``schema/``; each part of the
protocol adds its types there and its resolvers in a module of its own, listed in
``graphql.PARTS``.
"""
