"""The parts of the store written once for every engine, over ``lablens.store.sql.Sql``.

Each module holds one part (one concept); both engines' store classes build it with their own
``Sql`` (see ``lablens.store.parts``). What is engine-specific in substance stays in
``store/embedded`` and ``store/postgres``.
"""
